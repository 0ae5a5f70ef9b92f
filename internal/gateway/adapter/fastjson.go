package adapter

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The gateway decodes every batch into map[string]any and writes it back.
// encoding/json does both through reflection; these two functions do the
// same for the shapes the gateway uses, several times faster, and agree with
// encoding/json exactly (FuzzFastJSON compares them):
//
//   - parseJSON accepts only what encoding/json accepts and builds the same
//     value (numbers as json.Number). On any error, callers fall back to
//     encoding/json, so error messages and offsets are its own.
//   - appendJSON writes what encoding/json with SetEscapeHTML(false) writes:
//     sorted keys, the same string escaping.

var errFastJSON = errors.New("fastjson: not parsed")

const maxJSONDepth = 10000 // encoding/json's limit

type jsonParser struct {
	b     []byte
	i     int
	depth int
	keys  map[string]string // object keys repeat across a batch's events: one copy each
}

// parseJSON decodes one JSON value that is the whole of b, bar whitespace.
func parseJSON(b []byte) (any, error) {
	p := jsonParser{b: b}
	p.ws()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, errFastJSON
	}
	return v, nil
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, error) {
	if p.i >= len(p.b) {
		return nil, errFastJSON
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, errFastJSON
}

func (p *jsonParser) literal(word string, v any) (any, error) {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return nil, errFastJSON
	}
	p.i += len(word)
	return v, nil
}

func (p *jsonParser) object() (any, error) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, errFastJSON
	}
	defer func() { p.depth-- }()
	p.i++ // {
	m := map[string]any{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, errFastJSON
		}
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, errFastJSON
		}
		p.i++
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.ws()
		if p.i >= len(p.b) {
			return nil, errFastJSON
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, errFastJSON
		}
	}
}

func (p *jsonParser) array() (any, error) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, errFastJSON
	}
	defer func() { p.depth-- }()
	p.i++ // [
	a := []any{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.i >= len(p.b) {
			return nil, errFastJSON
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return a, nil
		default:
			return nil, errFastJSON
		}
	}
}

func (p *jsonParser) number() (any, error) {
	start := p.i
	b := p.b
	if b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(b) && b[p.i] == '0':
		p.i++
	case p.i < len(b) && b[p.i] >= '1' && b[p.i] <= '9':
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
		}
	default:
		return nil, errFastJSON
	}
	if p.i < len(b) && b[p.i] == '.' {
		p.i++
		d := p.i
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
		}
		if p.i == d {
			return nil, errFastJSON
		}
	}
	if p.i < len(b) && (b[p.i] == 'e' || b[p.i] == 'E') {
		p.i++
		if p.i < len(b) && (b[p.i] == '+' || b[p.i] == '-') {
			p.i++
		}
		d := p.i
		for p.i < len(b) && b[p.i] >= '0' && b[p.i] <= '9' {
			p.i++
		}
		if p.i == d {
			return nil, errFastJSON
		}
	}
	return json.Number(b[start:p.i]), nil
}

// str reads a string as encoding/json does: escapes resolved, unpaired
// surrogates and invalid UTF-8 bytes replaced by U+FFFD, control
// characters refused.
func (p *jsonParser) str() (any, error) {
	p.i++ // "
	start := p.i
	// Fast path: no escapes, plain ASCII or valid UTF-8.
	ascii := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			p.i++
			if ascii || utf8.Valid(s) {
				return string(s), nil
			}
			return string(fixUTF8(s)), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, errFastJSON
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		p.i++
	}
	if p.i >= len(p.b) {
		return nil, errFastJSON
	}
	// Slow path: escapes.
	out := make([]byte, 0, p.i-start+16)
	out = append(out, fixUTF8(p.b[start:p.i])...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return nil, errFastJSON
		case c == '\\':
			p.i++
			if p.i >= len(p.b) {
				return nil, errFastJSON
			}
			switch e := p.b[p.i]; e {
			case '"', '\\', '/':
				out = append(out, e)
				p.i++
			case 'b':
				out = append(out, '\b')
				p.i++
			case 'f':
				out = append(out, '\f')
				p.i++
			case 'n':
				out = append(out, '\n')
				p.i++
			case 'r':
				out = append(out, '\r')
				p.i++
			case 't':
				out = append(out, '\t')
				p.i++
			case 'u':
				r, ok := p.hex4(p.i + 1)
				if !ok {
					return nil, errFastJSON
				}
				p.i += 5
				if utf16.IsSurrogate(r) {
					if r2, ok := p.pairHalf(); ok {
						if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
							p.i += 6
							out = utf8.AppendRune(out, dec)
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, errFastJSON
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, unicode.ReplacementChar)
			} else {
				out = append(out, p.b[p.i:p.i+size]...)
			}
			p.i += size
		}
	}
	return nil, errFastJSON
}

// key reads an object key, interned: a key without escapes that was seen
// before costs no allocation.
func (p *jsonParser) key() (string, error) {
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		c := p.b[j]
		if c == '"' {
			if p.keys == nil {
				p.keys = map[string]string{}
			}
			if k, ok := p.keys[string(p.b[start:j])]; ok {
				p.i = j + 1
				return k, nil
			}
			break
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	v, err := p.str()
	if err != nil {
		return "", err
	}
	k := v.(string)
	if p.keys != nil && len(p.keys) < 4096 {
		p.keys[k] = k
	}
	return k, nil
}

// pairHalf reads a following \uXXXX without consuming it.
func (p *jsonParser) pairHalf() (rune, bool) {
	if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
		return p.hex4(p.i + 2)
	}
	return 0, false
}

func (p *jsonParser) hex4(at int) (rune, bool) {
	if at+4 > len(p.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.b[at:at+4]), 16, 16)
	if err != nil {
		return 0, false
	}
	for _, c := range p.b[at : at+4] { // ParseUint would take a sign or underscore
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return 0, false
		}
	}
	return rune(v), true
}

// fixUTF8 replaces each invalid byte with U+FFFD, as encoding/json does.
func fixUTF8(s []byte) []byte {
	if utf8.Valid(s) {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, unicode.ReplacementChar)
		} else {
			out = append(out, s[:size]...)
		}
		s = s[size:]
	}
	return out
}

// decodeFast decodes b into v (a *any, *[]any or *map[string]any) with the
// fast parser, or with encoding/json when the input or target is anything
// else, so that errors are encoding/json's.
func decodeFast(b []byte, v any, slow func([]byte, any) error) error {
	val, err := parseJSON(b)
	if err != nil {
		return slow(b, v)
	}
	switch t := v.(type) {
	case *any:
		*t = val
		return nil
	case *[]any:
		if a, ok := val.([]any); ok {
			*t = a
			return nil
		}
	case *map[string]any:
		if m, ok := val.(map[string]any); ok {
			*t = m
			return nil
		}
	}
	return slow(b, v)
}

const hexDigits = "0123456789abcdef"

// appendJSON writes v as encoding/json with SetEscapeHTML(false) would.
// ok is false for a type it does not handle.
func appendJSON(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case string:
		return appendJSONString(dst, x), true
	case json.Number:
		if x == "" {
			return append(dst, '0'), true
		}
		if !json.Valid([]byte(x)) {
			return dst, false
		}
		return append(dst, x...), true
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendJSON(dst, x[k]); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	case []any:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendJSON(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	}
	return dst, false
}

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
