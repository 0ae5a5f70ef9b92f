package discover

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The TOML reader below knows just enough TOML for dependency manifests and
// lock files: tables and arrays of tables, dotted and quoted keys, strings
// of all four kinds, arrays and inline tables. Numbers, booleans and dates
// are kept as their text. It reports malformed input with a line and
// column, and remembers the line of every key and value.

// manifestValue is a TOML value.
type manifestValue struct {
	kind  byte   // 's' string, 'a' array, 't' inline table, 'b' bare (number, boolean, date)
	str   string // a string's value or a bare value's text
	line  int
	elems []manifestValue
	kvs   []manifestKV
}

// manifestKV is one key = value pair; the key is dotted into parts.
type manifestKV struct {
	key  []string
	val  manifestValue
	line int
}

// manifestTable is a [table] or [[array of tables]] header and the pairs
// that follow it. The first table of a document is the root: no path, line 0.
type manifestTable struct {
	path  []string
	array bool
	line  int
	kvs   []manifestKV
}

// get returns the value of the single-part key of an inline table.
func (v manifestValue) get(key string) (manifestValue, bool) {
	if v.kind != 't' {
		return manifestValue{}, false
	}
	return lookupManifestKV(v.kvs, key)
}

// getString returns the string value of key in an inline table, or "".
func (v manifestValue) getString(key string) string {
	if e, ok := v.get(key); ok && e.kind == 's' {
		return e.str
	}
	return ""
}

// lookupManifestKV returns the value of the single-part key among kvs.
func lookupManifestKV(kvs []manifestKV, key string) (manifestValue, bool) {
	for _, kv := range kvs {
		if len(kv.key) == 1 && kv.key[0] == key {
			return kv.val, true
		}
	}
	return manifestValue{}, false
}

// fullPath is the table path followed by the pair's key.
func (t *manifestTable) fullPath(kv manifestKV) []string {
	p := make([]string, 0, len(t.path)+len(kv.key))
	return append(append(p, t.path...), kv.key...)
}

// parseManifestTOML reads the file as a TOML document.
func parseManifestTOML(f *manifestFile) ([]manifestTable, error) {
	r := &manifestTOMLReader{f: f, s: string(f.data)}
	r.i = len(r.s) - len(strings.TrimPrefix(r.s, "\xEF\xBB\xBF"))
	tables := []manifestTable{{}}
	for {
		r.blank()
		if r.i >= len(r.s) {
			return tables, nil
		}
		if r.s[r.i] == '[' {
			t, err := r.header()
			if err != nil {
				return nil, err
			}
			tables = append(tables, t)
		} else {
			kv, err := r.keyValue()
			if err != nil {
				return nil, err
			}
			last := &tables[len(tables)-1]
			last.kvs = append(last.kvs, kv)
		}
		if err := r.endOfLine(); err != nil {
			return nil, err
		}
	}
}

// manifestTOMLReader is a recursive-descent TOML reader.
type manifestTOMLReader struct {
	f     *manifestFile
	s     string
	i     int
	depth int
}

// errorAt returns an error at offset off.
func (r *manifestTOMLReader) errorAt(off int, format string, args ...any) error {
	return r.f.errorAtOffset(off, "invalid TOML: "+format, args...)
}

// found names what is at the reader's position for an error.
func (r *manifestTOMLReader) found() string {
	if r.i >= len(r.s) {
		return "end of input"
	}
	if c := r.s[r.i]; c == '\n' || c == '\r' {
		return "end of line"
	}
	c, _ := utf8.DecodeRuneInString(r.s[r.i:])
	return fmt.Sprintf("%q", c)
}

// spaces skips spaces and tabs.
func (r *manifestTOMLReader) spaces() {
	for r.i < len(r.s) && (r.s[r.i] == ' ' || r.s[r.i] == '\t') {
		r.i++
	}
}

// blank skips whitespace, line ends and comments.
func (r *manifestTOMLReader) blank() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\r', '\n':
			r.i++
		case '#':
			r.comment()
		default:
			return
		}
	}
}

// comment skips a comment up to its line end.
func (r *manifestTOMLReader) comment() {
	if j := strings.IndexByte(r.s[r.i:], '\n'); j >= 0 {
		r.i += j
	} else {
		r.i = len(r.s)
	}
}

// endOfLine accepts spaces and a comment up to the end of the line.
func (r *manifestTOMLReader) endOfLine() error {
	r.spaces()
	if r.i < len(r.s) && r.s[r.i] == '#' {
		r.comment()
	}
	if r.i < len(r.s) && r.s[r.i] == '\r' {
		r.i++
	}
	if r.i < len(r.s) && r.s[r.i] != '\n' {
		return r.errorAt(r.i, "expected the end of the line, found %s", r.found())
	}
	return nil
}

// header reads a [table] or [[array]] header.
func (r *manifestTOMLReader) header() (manifestTable, error) {
	start := r.i
	t := manifestTable{line: r.f.line(start)}
	r.i++
	if r.i < len(r.s) && r.s[r.i] == '[' {
		t.array = true
		r.i++
	}
	r.spaces()
	path, err := r.key()
	if err != nil {
		return t, err
	}
	t.path = path
	r.spaces()
	closing := "]"
	if t.array {
		closing = "]]"
	}
	if !strings.HasPrefix(r.s[r.i:], closing) {
		return t, r.errorAt(r.i, "expected %q to close the table header, found %s", closing, r.found())
	}
	r.i += len(closing)
	return t, nil
}

// keyValue reads key = value.
func (r *manifestTOMLReader) keyValue() (manifestKV, error) {
	kv := manifestKV{line: r.f.line(r.i)}
	key, err := r.key()
	if err != nil {
		return kv, err
	}
	kv.key = key
	r.spaces()
	if r.i >= len(r.s) || r.s[r.i] != '=' {
		return kv, r.errorAt(r.i, "expected '=' after key %q, found %s", strings.Join(key, "."), r.found())
	}
	r.i++
	r.spaces()
	kv.val, err = r.value()
	return kv, err
}

// key reads a dotted key of bare and quoted parts.
func (r *manifestTOMLReader) key() ([]string, error) {
	var parts []string
	for {
		r.spaces()
		part, err := r.keyPart()
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
		r.spaces()
		if r.i >= len(r.s) || r.s[r.i] != '.' {
			return parts, nil
		}
		r.i++
	}
}

// keyPart reads one part of a key.
func (r *manifestTOMLReader) keyPart() (string, error) {
	if r.i < len(r.s) && (r.s[r.i] == '"' || r.s[r.i] == '\'') {
		return r.singleLineString()
	}
	start := r.i
	for r.i < len(r.s) && isManifestTOMLBareKeyByte(r.s[r.i]) {
		r.i++
	}
	if r.i == start {
		return "", r.errorAt(r.i, "expected a key, found %s", r.found())
	}
	return r.s[start:r.i], nil
}

// isManifestTOMLBareKeyByte reports whether c may appear in a bare key. Beyond
// TOML's A-Za-z0-9_- it accepts any non-ASCII byte, leniently.
func isManifestTOMLBareKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c >= 0x80
}

// value reads a value.
func (r *manifestTOMLReader) value() (manifestValue, error) {
	line := r.f.line(r.i)
	if r.i >= len(r.s) {
		return manifestValue{}, r.errorAt(r.i, "expected a value, found end of input")
	}
	switch r.s[r.i] {
	case '"', '\'':
		s, err := r.string()
		return manifestValue{kind: 's', str: s, line: line}, err
	case '[':
		return r.array(line)
	case '{':
		return r.inlineTable(line)
	}
	start := r.i
	for r.i < len(r.s) && !strings.ContainsRune(",]}#\r\n", rune(r.s[r.i])) {
		r.i++
	}
	text := strings.TrimSpace(r.s[start:r.i])
	if text == "" {
		r.i = start
		return manifestValue{}, r.errorAt(start, "expected a value, found %s", r.found())
	}
	return manifestValue{kind: 'b', str: text, line: line}, nil
}

// nest enters a nested array or inline table.
func (r *manifestTOMLReader) nest() error {
	r.depth++
	if r.depth > maxManifestNesting {
		return r.errorAt(r.i, "nested too deeply")
	}
	return nil
}

// array reads an array; the reader is at its '['.
func (r *manifestTOMLReader) array(line int) (manifestValue, error) {
	if err := r.nest(); err != nil {
		return manifestValue{}, err
	}
	defer func() { r.depth-- }()
	start := r.i
	v := manifestValue{kind: 'a', line: line}
	r.i++
	for {
		r.blank()
		if r.i >= len(r.s) {
			return v, r.errorAt(start, "unterminated array")
		}
		if r.s[r.i] == ']' {
			r.i++
			return v, nil
		}
		e, err := r.value()
		if err != nil {
			return v, err
		}
		v.elems = append(v.elems, e)
		r.blank()
		switch {
		case r.i >= len(r.s):
			return v, r.errorAt(start, "unterminated array")
		case r.s[r.i] == ',':
			r.i++
		case r.atTableHeader():
			return v, r.errorAt(start, "unterminated array (a table header follows on line %d)", r.f.line(r.i))
		case r.s[r.i] != ']':
			return v, r.errorAt(r.i, "expected ',' or ']' in the array that starts on line %d, found %s", line, r.found())
		}
	}
}

// atTableHeader reports whether the reader is at a '[' that starts its
// line: the next table's header after an array left open.
func (r *manifestTOMLReader) atTableHeader() bool {
	if r.s[r.i] != '[' {
		return false
	}
	lineStart := strings.LastIndexByte(r.s[:r.i], '\n') + 1
	return strings.TrimLeft(r.s[lineStart:r.i], " \t") == ""
}

// inlineTable reads an inline table; the reader is at its '{'. Line ends
// inside it are accepted, as TOML 1.1 does.
func (r *manifestTOMLReader) inlineTable(line int) (manifestValue, error) {
	if err := r.nest(); err != nil {
		return manifestValue{}, err
	}
	defer func() { r.depth-- }()
	start := r.i
	v := manifestValue{kind: 't', line: line}
	r.i++
	for {
		r.blank()
		if r.i >= len(r.s) {
			return v, r.errorAt(start, "unterminated inline table")
		}
		if r.s[r.i] == '}' {
			r.i++
			return v, nil
		}
		kv, err := r.keyValue()
		if err != nil {
			return v, err
		}
		v.kvs = append(v.kvs, kv)
		r.blank()
		switch {
		case r.i >= len(r.s):
			return v, r.errorAt(start, "unterminated inline table")
		case r.s[r.i] == ',':
			r.i++
		case r.s[r.i] != '}':
			return v, r.errorAt(r.i, "expected ',' or '}' in the inline table that starts on line %d, found %s", line, r.found())
		}
	}
}

// string reads a string of any of the four kinds.
func (r *manifestTOMLReader) string() (string, error) {
	if strings.HasPrefix(r.s[r.i:], `"""`) || strings.HasPrefix(r.s[r.i:], `'''`) {
		return r.multiLineString()
	}
	return r.singleLineString()
}

// singleLineString reads a basic "..." or literal '...' string.
func (r *manifestTOMLReader) singleLineString() (string, error) {
	start := r.i
	q := r.s[r.i]
	r.i++
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == q:
			r.i++
			if q == '\'' {
				return r.s[start+1 : r.i-1], nil
			}
			return unescapeManifestTOML(r.s[start+1 : r.i-1]), nil
		case c == '\n':
			return "", r.errorAt(start, "unterminated string")
		case c == '\\' && q == '"':
			if r.i+1 < len(r.s) && r.s[r.i+1] == '\n' {
				return "", r.errorAt(start, "unterminated string")
			}
			r.i++
		}
		r.i++
	}
	return "", r.errorAt(start, "unterminated string")
}

// multiLineString reads a multi-line string, basic (between three double
// quotes) or literal (between three single quotes).
func (r *manifestTOMLReader) multiLineString() (string, error) {
	start := r.i
	delim := r.s[r.i : r.i+3]
	r.i += 3
	for r.i < len(r.s) {
		if r.s[r.i] == '\\' && delim[0] == '"' {
			r.i += 2
			continue
		}
		if strings.HasPrefix(r.s[r.i:], delim) {
			// Up to two quotes may end the content itself.
			extra := 0
			for extra < 2 && r.i+3+extra < len(r.s) && r.s[r.i+3+extra] == delim[0] {
				extra++
			}
			end := r.i + extra
			body := strings.TrimPrefix(strings.TrimPrefix(r.s[start+3:end], "\r"), "\n")
			r.i = end + 3
			if delim[0] == '\'' {
				return body, nil
			}
			return unescapeManifestTOML(body), nil
		}
		r.i++
	}
	return "", r.errorAt(start, "unterminated string")
}

// unescapeManifestTOML decodes the escapes of a basic string; unknown escapes are
// kept as written.
func unescapeManifestTOML(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'e':
			b.WriteByte(0x1b)
		case '"', '\\':
			b.WriteByte(e)
		case 'u', 'U':
			n := 4
			if e == 'U' {
				n = 8
			}
			if r, ok := hexRuneManifestTOML(s[i+1:], n); ok {
				b.WriteRune(r)
				i += n
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(e)
		case ' ', '\t', '\r', '\n':
			// A line-ending backslash trims the whitespace that follows.
			j := i
			for j < len(s) && strings.IndexByte(" \t\r\n", s[j]) >= 0 {
				j++
			}
			if strings.Contains(s[i:j], "\n") {
				i = j - 1
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(e)
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String()
}

// hexRuneManifestTOML decodes the first n hex digits of s.
func hexRuneManifestTOML(s string, n int) (rune, bool) {
	if len(s) < n {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[:n]) {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	if !utf8.ValidRune(r) {
		return utf8.RuneError, true
	}
	return r, true
}
