package discover

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestExcerpt(t *testing.T) {
	src := []byte(strings.Join([]string{
		"// header",
		"import a from 'a'",
		"const x = 1",
		"import {",
		"  b,",
		"  c,",
		"} from 'b'",
		"function f() {",
		"  return require('c')",
		"}",
		"",
	}, "\n"))
	e := newExcerpt(src, "import", "require")
	want := "import a from 'a'\nimport {\n  b,\n  c,\n} from 'b'\n  return require('c')\n"
	if string(e.text) != want {
		t.Fatalf("excerpt:\n%q\nwant\n%q", e.text, want)
	}
	// Every offset of the excerpt maps to the same byte of the file.
	for i := range e.text {
		if o := e.orig(i); src[o] != e.text[i] {
			t.Fatalf("offset %d maps to %d: %q vs %q", i, o, src[o], e.text[i])
		}
	}
	// A match in the excerpt is a match at the mapped place of the file.
	re := regexp.MustCompile(`require\('(\w)'\)`)
	m := re.FindSubmatchIndex(e.text)
	if o := e.orig(m[2]); src[o] != 'c' || !bytes.HasPrefix(src[e.orig(m[0]):], []byte("require('c')")) {
		t.Fatalf("match maps to %d", o)
	}
}

func TestExcerptUnclosedBracketIsBounded(t *testing.T) {
	src := []byte("import (\n" + strings.Repeat("x\n", 1000) + "import y\n")
	e := newExcerpt(src, "import")
	if n := bytes.Count(e.text, []byte("\n")); n > maxContinuation+3 {
		t.Fatalf("excerpt has %d lines", n)
	}
	if !bytes.HasSuffix(e.text, []byte("import y\n")) {
		t.Fatalf("later import lost: %q", e.text[len(e.text)-20:])
	}
}

func TestExcerptNoKeyword(t *testing.T) {
	e := newExcerpt([]byte("a\nb\n"), "import")
	if len(e.text) != 0 || e.orig(0) != 0 {
		t.Fatalf("%q", e.text)
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
