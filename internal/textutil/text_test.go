package textutil

import "testing"

func TestText(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Plural(1, "vendor"), "1 vendor"}, {Plural(0, "vendor"), "0 vendors"}, {Plural(12, "flow"), "12 flows"},
		{Shorten("mixpanel", 8), "mixpanel"}, {Shorten("mixpanel", 5), "mixp…"}, {Shorten("Société Générale", 7), "Sociét…"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
	if !IsASCII("ada@example.com") || IsASCII("\u212a@example.com") || IsASCII("é") {
		t.Error("IsASCII")
	}
}
