package cli

import (
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/incident"
)

func TestReadResidence(t *testing.T) {
	rs, err := readResidence("r.csv", strings.NewReader("\ufeffUser_ID,Country\nu1,de\n u2 , US-CA \n"), nil)
	if err != nil || len(rs) != 2 || rs[0].Subject != "u1" || rs[0].Jurisdiction != "DE" || rs[1].Subject != "u2" || rs[1].Jurisdiction != "US-CA" {
		t.Fatalf("%+v, %v", rs, err)
	}
	rs, err = readResidence("r.csv", strings.NewReader("user_id,jurisdiction\nu1,FR\n"), func(s string) string { return "h(" + s + ")" })
	if err != nil || rs[0].Subject != "h(u1)" || rs[0].ExternalID != "u1" {
		t.Fatalf("hashed: %+v, %v", rs, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"", "r.csv: no header row"},
		{"name,email\n", "r.csv:1: the header must name a user_id and a jurisdiction column"},
		{"user_id,jurisdiction\nu1\n", "r.csv:2: 1 columns"},
		{"user_id,jurisdiction\n\"u1,DE\n", "r.csv:"},
	} {
		if _, err := readResidence("r.csv", strings.NewReader(tc.in), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzReadResidence(f *testing.F) {
	f.Add("user_id,jurisdiction\nu1,DE\nu2,US-CA\n")
	f.Add("jurisdiction,user_id,extra\nGB,u1,x\n,u2\n")
	f.Add("user_id,jurisdiction\n\"u1,DE\n")
	f.Fuzz(func(t *testing.T, in string) {
		rs, err := readResidence("r.csv", strings.NewReader(in), nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "r.csv") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, r := range rs {
			if r.Subject == "" || !incident.KnownJurisdiction(r.Jurisdiction) {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}
