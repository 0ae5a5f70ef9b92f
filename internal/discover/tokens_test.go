package discover

import (
	"fmt"
	"regexp"
	"testing"
)

// The regular expressions the hand-written scanners of tokens.go replaced:
// the oracles of the fuzz tests below.
var (
	reEnvKeyOracle       = regexp.MustCompile(`\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b`)
	reQuoteHostOracle    = regexp.MustCompile(`["'\x60]((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})["'\x60/:]`)
	reParamDefaultOracle = regexp.MustCompile(`[(,]\s*([a-z_]\w*)\s*(?::|=)\s*([A-Z][A-Z0-9_]{2,})\s*[,)]`)
)

var tokenSeeds = []string{
	`MIXPANEL_TOKEN=abc NEXT_PUBLIC_SENTRY_DSN= A__B _A A_ x_Y`,
	`fetch("https://api.mixpanel.com/track"); const h = 'api.segment.io'; x = "a.b"`,
	`url: "cdn.segment.com/analytics.js", "a-.com", "x.c0m"`,
	`def initialize(tracker: MIXPANEL, client = SEGMENT_IO) f(a=AB, b=ABC)`,
}

func FuzzEnvKeys(f *testing.F) {
	for _, s := range tokenSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want []string
		for _, m := range envKeys([]byte(s)) {
			got = append(got, fmt.Sprint(m[0], m[1]))
		}
		for _, m := range reEnvKeyOracle.FindAllStringIndex(s, -1) {
			want = append(want, fmt.Sprint(m[0], m[1]))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: envKeys %v, regexp %v", s, got, want)
		}
	})
}

func FuzzQuotedHosts(f *testing.F) {
	for _, s := range tokenSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want []string
		for _, m := range quotedHosts([]byte(s)) {
			got = append(got, fmt.Sprint(m[0], m[1]))
		}
		for _, m := range reQuoteHostOracle.FindAllStringSubmatchIndex(s, -1) {
			want = append(want, fmt.Sprint(m[2], m[3]))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: quotedHosts %v, regexp %v", s, got, want)
		}
	})
}

// FuzzParamDefaults checks that every parameter default the regular
// expression finds is found; the scanner finds more, since the regular
// expression's matches cannot share the ',' between two parameters.
func FuzzParamDefaults(f *testing.F) {
	for _, s := range tokenSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := map[paramDefault]bool{}
		for _, p := range paramDefaults([]byte(s)) {
			got[p] = true
		}
		for _, m := range reParamDefaultOracle.FindAllStringSubmatch(s, -1) {
			if p := (paramDefault{m[1], m[2]}); !got[p] {
				t.Fatalf("%q: regexp finds %v, paramDefaults %v", s, p, got)
			}
		}
	})
}

func TestParamDefaultsAdjacent(t *testing.T) {
	got := paramDefaults([]byte(`f(a=AB, b=ABC, c: MIXPANEL)`))
	if fmt.Sprint(got) != "[{b ABC} {c MIXPANEL}]" {
		t.Fatalf("%v", got)
	}
}
