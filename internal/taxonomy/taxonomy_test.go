package taxonomy

import (
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	tr := Default()
	if len(tr.Keys()) < 60 {
		t.Fatalf("embedded taxonomy has %d keys, want at least 60", len(tr.Keys()))
	}
	// Every key the product and the reference rely on must exist.
	for _, k := range []string{
		"user.name", "user.contact.email", "user.unique_id", "user.contact.organization",
		"user.location.imprecise", "user.device.user_agent", "user.behavior.referrer",
		"user.device.ip_address", "user.behavior.browsing_history", "user.financial",
		"user.authorization.credentials", "user.unique_id.pseudonymous", "system.operations",
	} {
		if !tr.Has(k) {
			t.Errorf("missing key %s", k)
		}
	}
	for _, c := range tr.All() {
		if c.Fideslang != "" && !Covers(c.Fideslang, c.Key) {
			t.Errorf("%s exports as %s, which is not one of its ancestors", c.Key, c.Fideslang)
		}
	}
}

func TestHierarchy(t *testing.T) {
	tests := []struct {
		a, b             string
		covers, overlaps bool
	}{
		{"user.contact", "user.contact.email", true, true},
		{"user.contact.email", "user.contact", false, true},
		{"user.contact.email", "user.contact.email", true, true},
		{"user.contact", "user.contactx", false, false},
		{"user.name", "user.contact.email", false, false},
		{"user", "user.name.first", true, true},
	}
	for _, tt := range tests {
		if got := Covers(tt.a, tt.b); got != tt.covers {
			t.Errorf("Covers(%q,%q) = %v, want %v", tt.a, tt.b, got, tt.covers)
		}
		if got := Overlaps(tt.a, tt.b); got != tt.overlaps {
			t.Errorf("Overlaps(%q,%q) = %v, want %v", tt.a, tt.b, got, tt.overlaps)
		}
	}
	if got := strings.Join(Ancestors("user.contact.address.city"), ","); got != "user.contact.address,user.contact,user" {
		t.Errorf("Ancestors = %s", got)
	}
	d := Default().Descendants("user.name")
	if strings.Join(d, ",") != "user.name.first,user.name.last" {
		t.Errorf("Descendants(user.name) = %v", d)
	}
	if s := Default().Sensitivity("user"); s != 4 {
		t.Errorf("Sensitivity(user) = %d, want 4 (it covers special categories)", s)
	}
	if s := Default().Sensitivity("user.contact.email"); s != 2 {
		t.Errorf("Sensitivity(user.contact.email) = %d, want 2", s)
	}
	if got := Default().Fideslang("user.device.user_agent"); got != "user.device" {
		t.Errorf("Fideslang(user.device.user_agent) = %s", got)
	}
}

func TestCheckSuggests(t *testing.T) {
	err := Default().Check("user.contact.emial")
	if err == nil || !strings.Contains(err.Error(), `did you mean "user.contact.email"`) {
		t.Fatalf("Check = %v", err)
	}
	if err := Default().Check("user.contact.email"); err != nil {
		t.Fatal(err)
	}
	if err := Default().Check("completely.different"); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Fatalf("Check of a far key = %v, want an error without suggestion", err)
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"orphan":        "categories: [{key: a.b, name: B, sensitivity: 1}]",
		"duplicate":     "categories: [{key: a, name: A, sensitivity: 1}, {key: a, name: A, sensitivity: 1}]",
		"bad key":       "categories: [{key: 'A B', name: A, sensitivity: 1}]",
		"unknown field": "categories: [{key: a, name: A, sensitivity: 1, colour: red}]",
		"sensitivity":   "categories: [{key: a, name: A, sensitivity: 9}]",
		"no name":       "categories: [{key: a, sensitivity: 1}]",
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: Parse accepted %s", name, doc)
		}
	}
}
