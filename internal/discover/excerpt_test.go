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
