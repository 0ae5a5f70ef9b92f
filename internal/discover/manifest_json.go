package discover

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// manifestJSON is a JSON value that remembers the byte offset where it
// starts, so that a manifest's dependencies get line numbers
// (encoding/json forgets them).
type manifestJSON struct {
	kind    byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' boolean, 'z' null
	off     int
	str     string // a string's value, a number's text, "true" or "false"
	members []manifestJSONMember
	elems   []*manifestJSON
}

// manifestJSONMember is one member of a JSON object.
type manifestJSONMember struct {
	key string
	off int // offset of the key's opening quote
	val *manifestJSON
}

// field returns the value of the last member named key of an object, or nil.
func (v *manifestJSON) field(key string) *manifestJSON {
	if v == nil || v.kind != 'o' {
		return nil
	}
	for i := len(v.members) - 1; i >= 0; i-- {
		if v.members[i].key == key {
			return v.members[i].val
		}
	}
	return nil
}

// fieldMember returns the last member named key of an object.
func (v *manifestJSON) fieldMember(key string) (manifestJSONMember, bool) {
	if v == nil || v.kind != 'o' {
		return manifestJSONMember{}, false
	}
	for i := len(v.members) - 1; i >= 0; i-- {
		if v.members[i].key == key {
			return v.members[i], true
		}
	}
	return manifestJSONMember{}, false
}

// text returns a string's value, or "" for anything else.
func (v *manifestJSON) text() string {
	if v == nil || v.kind != 's' {
		return ""
	}
	return v.str
}

// isTrue reports whether v is the literal true.
func (v *manifestJSON) isTrue() bool { return v != nil && v.kind == 'b' && v.str == "true" }

// isKind reports whether v is a value of kind k.
func (v *manifestJSON) isKind(k byte) bool { return v != nil && v.kind == k }

// maxManifestNesting bounds how deeply JSON and TOML values nest, so that
// the recursive readers cannot exhaust the stack.
const maxManifestNesting = 500

// parseManifestJSON reads the file as one JSON document.
func parseManifestJSON(f *manifestFile) (*manifestJSON, error) {
	r := &manifestJSONReader{f: f, s: f.data}
	if len(r.s) >= 3 && string(r.s[:3]) == "\xEF\xBB\xBF" {
		r.i = 3
	}
	r.space()
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	r.space()
	if r.i < len(r.s) {
		return nil, r.errorf("invalid JSON: unexpected %s after the top-level value", r.describe())
	}
	return v, nil
}

// parseManifestJSONObject reads the file as one JSON object.
func parseManifestJSONObject(f *manifestFile) (*manifestJSON, error) {
	v, err := parseManifestJSON(f)
	if err != nil {
		return nil, err
	}
	if v.kind != 'o' {
		return nil, f.errorAtOffset(v.off, "invalid %s: the top-level value is not an object", f.base)
	}
	return v, nil
}

// manifestJSONReader is a recursive-descent JSON reader.
type manifestJSONReader struct {
	f     *manifestFile
	s     []byte
	i     int
	depth int
}

// errorf returns an error at the reader's position.
func (r *manifestJSONReader) errorf(format string, args ...any) error {
	return r.f.errorAtOffset(r.i, format, args...)
}

// describe names the byte at the reader's position for an error.
func (r *manifestJSONReader) describe() string {
	if r.i >= len(r.s) {
		return "end of input"
	}
	c, _ := utf8.DecodeRune(r.s[r.i:])
	return fmt.Sprintf("character %q", c)
}

// space skips JSON whitespace.
func (r *manifestJSONReader) space() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// value reads one JSON value.
func (r *manifestJSONReader) value() (*manifestJSON, error) {
	if r.i >= len(r.s) {
		return nil, r.errorf("invalid JSON: unexpected end of input")
	}
	switch c := r.s[r.i]; {
	case c == '{':
		return r.object()
	case c == '[':
		return r.array()
	case c == '"':
		off := r.i
		s, err := r.string()
		if err != nil {
			return nil, err
		}
		return &manifestJSON{kind: 's', off: off, str: s}, nil
	case c == '-' || '0' <= c && c <= '9':
		return r.number()
	case c == 't':
		return r.literal("true", 'b')
	case c == 'f':
		return r.literal("false", 'b')
	case c == 'n':
		return r.literal("null", 'z')
	}
	return nil, r.errorf("invalid JSON: unexpected %s", r.describe())
}

// nest enters a nested object or array.
func (r *manifestJSONReader) nest() error {
	r.depth++
	if r.depth > maxManifestNesting {
		return r.errorf("invalid JSON: nested too deeply")
	}
	return nil
}

// object reads an object; the reader is at its '{'.
func (r *manifestJSONReader) object() (*manifestJSON, error) {
	if err := r.nest(); err != nil {
		return nil, err
	}
	defer func() { r.depth-- }()
	v := &manifestJSON{kind: 'o', off: r.i}
	r.i++
	r.space()
	if r.i < len(r.s) && r.s[r.i] == '}' {
		r.i++
		return v, nil
	}
	for {
		r.space()
		if r.i >= len(r.s) || r.s[r.i] != '"' {
			return nil, r.errorf("invalid JSON: expected a string key, found %s", r.describe())
		}
		m := manifestJSONMember{off: r.i}
		var err error
		if m.key, err = r.string(); err != nil {
			return nil, err
		}
		r.space()
		if r.i >= len(r.s) || r.s[r.i] != ':' {
			return nil, r.errorf("invalid JSON: expected ':' after object key, found %s", r.describe())
		}
		r.i++
		r.space()
		if m.val, err = r.value(); err != nil {
			return nil, err
		}
		v.members = append(v.members, m)
		r.space()
		if r.i < len(r.s) && r.s[r.i] == ',' {
			r.i++
			continue
		}
		if r.i < len(r.s) && r.s[r.i] == '}' {
			r.i++
			return v, nil
		}
		return nil, r.errorf("invalid JSON: expected ',' or '}' after object member, found %s", r.describe())
	}
}

// array reads an array; the reader is at its '['.
func (r *manifestJSONReader) array() (*manifestJSON, error) {
	if err := r.nest(); err != nil {
		return nil, err
	}
	defer func() { r.depth-- }()
	v := &manifestJSON{kind: 'a', off: r.i}
	r.i++
	r.space()
	if r.i < len(r.s) && r.s[r.i] == ']' {
		r.i++
		return v, nil
	}
	for {
		r.space()
		e, err := r.value()
		if err != nil {
			return nil, err
		}
		v.elems = append(v.elems, e)
		r.space()
		if r.i < len(r.s) && r.s[r.i] == ',' {
			r.i++
			continue
		}
		if r.i < len(r.s) && r.s[r.i] == ']' {
			r.i++
			return v, nil
		}
		return nil, r.errorf("invalid JSON: expected ',' or ']' after array element, found %s", r.describe())
	}
}

// literal reads true, false or null.
func (r *manifestJSONReader) literal(word string, kind byte) (*manifestJSON, error) {
	if !strings.HasPrefix(string(r.s[r.i:min(len(r.s), r.i+len(word))]), word) {
		return nil, r.errorf("invalid JSON: unexpected %s", r.describe())
	}
	v := &manifestJSON{kind: kind, off: r.i, str: word}
	r.i += len(word)
	return v, nil
}

// number reads a number as its text.
func (r *manifestJSONReader) number() (*manifestJSON, error) {
	start := r.i
	digits := func() int {
		n := 0
		for r.i < len(r.s) && '0' <= r.s[r.i] && r.s[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	if r.s[r.i] == '-' {
		r.i++
	}
	if digits() == 0 {
		return nil, r.errorf("invalid JSON: malformed number")
	}
	if r.i < len(r.s) && r.s[r.i] == '.' {
		r.i++
		if digits() == 0 {
			return nil, r.errorf("invalid JSON: malformed number")
		}
	}
	if r.i < len(r.s) && (r.s[r.i] == 'e' || r.s[r.i] == 'E') {
		r.i++
		if r.i < len(r.s) && (r.s[r.i] == '+' || r.s[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			return nil, r.errorf("invalid JSON: malformed number")
		}
	}
	return &manifestJSON{kind: 'n', off: start, str: string(r.s[start:r.i])}, nil
}

// string reads a string; the reader is at its opening quote.
func (r *manifestJSONReader) string() (string, error) {
	start := r.i
	r.i++
	plain := r.i
	for r.i < len(r.s) {
		switch c := r.s[r.i]; {
		case c == '"':
			s := string(r.s[plain:r.i])
			r.i++
			return s, nil
		case c == '\\':
			return r.escapedString(start, plain)
		case c == '\n':
			return "", r.f.errorAtOffset(start, "invalid JSON: unterminated string")
		case c < 0x20:
			return "", r.errorf("invalid JSON: control character in string")
		}
		r.i++
	}
	return "", r.f.errorAtOffset(start, "invalid JSON: unterminated string")
}

// escapedString finishes reading a string that has escapes, from r.i; the
// text from plain to r.i has none.
func (r *manifestJSONReader) escapedString(start, plain int) (string, error) {
	var b strings.Builder
	b.Write(r.s[plain:r.i])
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == '"':
			r.i++
			return b.String(), nil
		case c == '\n':
			return "", r.f.errorAtOffset(start, "invalid JSON: unterminated string")
		case c < 0x20:
			return "", r.errorf("invalid JSON: control character in string")
		case c != '\\':
			b.WriteByte(c)
			r.i++
			continue
		}
		if r.i+1 >= len(r.s) {
			break
		}
		esc := r.s[r.i+1]
		r.i += 2
		switch esc {
		case '"', '\\', '/':
			b.WriteByte(esc)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			c, ok := r.hex4()
			if !ok {
				return "", r.errorf("invalid JSON: malformed \\u escape")
			}
			b.WriteRune(r.surrogate(c))
		default:
			r.i -= 2
			return "", r.errorf("invalid JSON: invalid escape '\\%c'", esc)
		}
	}
	return "", r.f.errorAtOffset(start, "invalid JSON: unterminated string")
}

// surrogate combines c with a following \u escape when they form a UTF-16
// surrogate pair.
func (r *manifestJSONReader) surrogate(c rune) rune {
	if !utf16.IsSurrogate(c) {
		return c
	}
	if r.i+1 < len(r.s) && r.s[r.i] == '\\' && r.s[r.i+1] == 'u' {
		save := r.i
		r.i += 2
		if c2, ok := r.hex4(); ok {
			if p := utf16.DecodeRune(c, c2); p != utf8.RuneError {
				return p
			}
		}
		r.i = save
	}
	return utf8.RuneError
}

// hex4 reads four hex digits.
func (r *manifestJSONReader) hex4() (rune, bool) {
	if r.i+4 > len(r.s) {
		return 0, false
	}
	var c rune
	for _, h := range r.s[r.i : r.i+4] {
		switch {
		case '0' <= h && h <= '9':
			c = c<<4 | rune(h-'0')
		case 'a' <= h && h <= 'f':
			c = c<<4 | rune(h-'a'+10)
		case 'A' <= h && h <= 'F':
			c = c<<4 | rune(h-'A'+10)
		default:
			return 0, false
		}
	}
	r.i += 4
	return c, true
}
