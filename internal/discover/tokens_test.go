package discover

import (
	"fmt"
	"regexp"
	"strings"
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

// reAssign is the regular expression assignments replaced; it is the oracle
// of FuzzAssignments.
var reAssign = regexp.MustCompile(`(?m)(?:^|[\s;(])(@?\$?[A-Za-z_][\w$]*)\s*(?::=|=(?:[^=>]))\s*(?:new\s+|await\s+|try\s+)?(\\?[A-Za-z_][\w\\]*(?:(?:\.|::|->)[A-Za-z_]\w*)*)\s*[({.]`)

func TestAssignments(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"tracker = Mixpanel::Tracker.new(token)", "tracker=Mixpanel::Tracker.new"},
		{"$stripe = new \\Stripe\\StripeClient($key);", "$stripe=\\Stripe\\StripeClient"},
		{"client := segment.New(key)", "client=segment.New"},
		{"@tracker = Mixpanel::Tracker.new", "@tracker=Mixpanel::Tracker"},
		{"const a = await posthog.init(k)", "a=posthog.init"},
		{"val amplitude = Amplitude(config)", "amplitude=Amplitude"},
		{"x = a.b.c;", "x=a.b"},
		{"x = { a: 1 }", ""},
		{"if (a == b.c()) {}", ""},
		{"a != b.c()", ""},
		{"a += b.c()", ""},
		{"this.x = foo()", ""},
		{"f(a = b.c())", "a=b.c"},
		{"x =\n  sentry.init({})", "x=sentry.init"},
		{"1x = a()", ""},
		{"x = 'a'.b()", ""},
	} {
		var got []string
		for _, a := range assignments([]byte(tc.src)) {
			got = append(got, a.lhs+"="+a.rhs)
		}
		if strings.Join(got, ";") != tc.want {
			t.Errorf("%q: got %q, want %q", tc.src, got, tc.want)
		}
	}
}

// FuzzAssignments checks that the hand-written scan finds every assignment
// the regular expression it replaced finds. It may find more: the regular
// expression's matches cannot overlap, and it swallowed the character after
// '=', so inputs where that is not white space are left out.
func FuzzAssignments(f *testing.F) {
	for _, s := range []string{"a = b.c()", "x := y.Z{}", "@t = M::T.new", "$s = new \\S\\C()", "a = b = c.d()", "p(a = b(), c = d.e())"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src := []byte(s)
		got := map[string]bool{}
		for _, a := range assignments(src) {
			if a.off < 0 || a.off >= len(src) || !strings.HasPrefix(s[a.off:], a.lhs) {
				t.Fatalf("%q: bad offset %d for %q", s, a.off, a.lhs)
			}
			got[a.lhs+"="+a.rhs] = true
		}
		for _, m := range reAssign.FindAllStringSubmatchIndex(s, -1) {
			eq := strings.IndexByte(s[m[3]:], '=') + m[3]
			if eq+1 < len(s) && !isSpaceByte(s[eq+1]) {
				continue
			}
			if k := s[m[2]:m[3]] + "=" + s[m[4]:m[5]]; !got[k] {
				t.Fatalf("%q: regexp finds %q, assignments finds %v", s, k, got)
			}
		}
	})
}
