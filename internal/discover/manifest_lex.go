package discover

import "strings"

// manifestToken is a token of a build script in Groovy, Kotlin or Swift.
type manifestToken struct {
	kind byte   // 'i' identifier or number, 's' string, 'p' punctuation, 0 at the end
	text string // a string's raw contents, without quotes
	off  int    // byte offset where the token starts
}

// is reports whether the token is of kind and has text.
func (t manifestToken) is(kind byte, text string) bool { return t.kind == kind && t.text == text }

// manifestLexer splits a build script (build.gradle, build.gradle.kts,
// Package.swift) into identifiers, strings and punctuation, skipping
// comments. It is a value: a copy of it reads ahead without moving the
// original.
type manifestLexer struct {
	s string
	i int
}

// next returns the next token.
func (l *manifestLexer) next() manifestToken {
	l.skip()
	if l.i >= len(l.s) {
		return manifestToken{off: len(l.s)}
	}
	start := l.i
	c := l.s[l.i]
	switch {
	case c == '"' || c == '\'':
		return manifestToken{kind: 's', text: l.string(), off: start}
	case isManifestIdentByte(c):
		for l.i < len(l.s) && isManifestIdentByte(l.s[l.i]) {
			l.i++
		}
		return manifestToken{kind: 'i', text: l.s[start:l.i], off: start}
	}
	l.i++
	return manifestToken{kind: 'p', text: l.s[start:l.i], off: start}
}

// skip skips whitespace and comments.
func (l *manifestLexer) skip() {
	for l.i < len(l.s) {
		switch c := l.s[l.i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.i++
		case strings.HasPrefix(l.s[l.i:], "//"):
			if j := strings.IndexByte(l.s[l.i:], '\n'); j >= 0 {
				l.i += j
			} else {
				l.i = len(l.s)
			}
		case strings.HasPrefix(l.s[l.i:], "/*"):
			if j := strings.Index(l.s[l.i+2:], "*/"); j >= 0 {
				l.i += j + 4
			} else {
				l.i = len(l.s)
			}
		default:
			return
		}
	}
}

// string reads a string literal: triple-quoted ones may span lines, others
// end at their line's end when unterminated. Escapes are kept as written.
func (l *manifestLexer) string() string {
	q := l.s[l.i]
	if triple := strings.Repeat(string(q), 3); strings.HasPrefix(l.s[l.i:], triple) {
		body := l.s[l.i+3:]
		j := strings.Index(body, triple)
		if j < 0 {
			l.i = len(l.s)
			return body
		}
		l.i += 3 + j + 3
		return body[:j]
	}
	l.i++
	start := l.i
	for l.i < len(l.s) {
		switch l.s[l.i] {
		case q:
			l.i++
			return l.s[start : l.i-1]
		case '\n':
			return l.s[start:l.i]
		case '\\':
			if l.i+1 < len(l.s) && l.s[l.i+1] != '\n' {
				l.i++
			}
		}
		l.i++
	}
	return l.s[start:]
}

// isManifestIdentByte reports whether c may appear in an identifier.
func isManifestIdentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '$' || c >= 0x80
}
