package adapter

import (
	"net/url"
	"strings"
)

// A Mixpanel form body is one data= field of percent-escaped base64, tens of
// kilobytes long, unescaped on the way in and escaped again on the way out.
// net/url unescapes a byte at a time, and escapes into a buffer that it then
// copies into the string. These two give the same results (FuzzFormUnescape
// and FuzzFormEscape compare them), copy the runs between escapes whole and
// allocate once.

const formNotHex = 0xff

// formUnhex is the value of a hex digit, or formNotHex.
var formUnhex = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			t[c] = byte(c - 'A' + 10)
		default:
			t[c] = formNotHex
		}
	}
	return t
}()

// formSafe marks the bytes url.QueryEscape writes as they are: letters,
// digits and -_.~ (RFC 3986's unreserved set).
var formSafe = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

const formUpperHex = "0123456789ABCDEF"

// formUnescape is url.QueryUnescape: %XX is the byte 0xXX and + a space. It
// fails, with url.QueryUnescape's error, where a % is not followed by two
// hex digits. A string with nothing to unescape comes back as it is.
func formUnescape(s string) (string, error) {
	i := strings.IndexByte(s, '%')
	plus := strings.IndexByte(s, '+') >= 0
	switch {
	case i < 0 && !plus:
		return s, nil
	case i < 0:
		return strings.ReplaceAll(s, "+", " "), nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		run := s
		if i >= 0 {
			run = s[:i]
		}
		// A + in the text is a space; one escaped as %2B (below) is not.
		for plus {
			j := strings.IndexByte(run, '+')
			if j < 0 {
				break
			}
			b.WriteString(run[:j])
			b.WriteByte(' ')
			run = run[j+1:]
		}
		b.WriteString(run)
		if i < 0 {
			return b.String(), nil
		}
		if len(s) < i+3 || formUnhex[s[i+1]] == formNotHex || formUnhex[s[i+2]] == formNotHex {
			return "", url.EscapeError(s[i:min(i+3, len(s))])
		}
		b.WriteByte(formUnhex[s[i+1]]<<4 | formUnhex[s[i+2]])
		s = s[i+3:]
		i = strings.IndexByte(s, '%')
	}
}

// formEscape is url.QueryEscape: a space becomes +, every byte but letters,
// digits and -_.~ becomes %XX. It allocates once, and not at all when s
// needs no escaping.
func formEscape(s string) string {
	n, spaces := 0, 0 // bytes to escape, and how many of them are spaces
	for i := 0; i < len(s); i++ {
		if c := s[i]; !formSafe[c] {
			n++
			if c == ' ' {
				spaces++
			}
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*(n-spaces))
	start := 0 // of the run of bytes written as they are
	for i := 0; i < len(s); i++ {
		c := s[i]
		if formSafe[c] {
			continue
		}
		b.WriteString(s[start:i])
		if c == ' ' {
			b.WriteByte('+')
		} else {
			b.WriteByte('%')
			b.WriteByte(formUpperHex[c>>4])
			b.WriteByte(formUpperHex[c&15])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	return b.String()
}
