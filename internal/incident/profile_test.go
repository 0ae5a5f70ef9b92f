package incident

import (
	"strings"
	"testing"
)

func TestParseProfile(t *testing.T) {
	p, err := LoadProfile("../../examples/acme/organization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Acme Cloud, Inc." || p.Website != "acme.example" || p.PublicCompany || p.EUEstablishment != "" {
		t.Errorf("acme profile = %+v", p)
	}
	for _, tc := range []struct{ doc, want string }{
		{"kind: organization\nname: A\ncontact: c\nwebsite: a.example\npublic_compnay: true\n", `x.yaml:5:1: public_compnay: unknown field (did you mean "public_company"?)`},
		{"kind: organization\nname: A\n", "x.yaml:1:1: contact: required"},
		{"kind: gateway\nname: A\ncontact: c\n", `x.yaml:1:7: kind: must be "organization"`},
		{"kind: organization\nname: A\ncontact: c\neu_establishment: US\n", `x.yaml:4:19: eu_establishment: "US"`},
		{"kind: organization\nname: [\n", "x.yaml:2:0: invalid YAML"},
	} {
		_, err := ParseProfile("x.yaml", []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func FuzzParseProfile(f *testing.F) {
	f.Add([]byte("kind: organization\nname: A\ncontact: c\nwebsite: a.example\neu_establishment: IE\n"))
	f.Add([]byte("kind: organization\nname: [\n"))
	f.Add([]byte("kind: organization\nname: A\ncontact: c\npublic_company: maybe\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile("f.yaml", data)
		if err == nil && (strings.TrimSpace(p.Name) == "" || strings.TrimSpace(p.Contact) == "") {
			t.Fatalf("accepted a profile without name or contact: %+v", p)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "f.yaml:") {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}
