package discover

// JSON for HAR files: a validator and a scanner over validated bytes.
//
// HAR files are mostly response bodies in JSON strings. encoding/json's
// checkValid steps a state machine through every byte; harValidate skips
// the plain runs of strings with a table and is several times faster, with
// exactly the grammar, messages and offsets of encoding/json (FuzzHARValidate
// compares them), so a capture is rejected where json.Valid rejects it and
// the error reads the same.

import (
	"bytes"
	"strconv"
)

// harMaxDepth is encoding/json's nesting limit.
const harMaxDepth = 10000

// harSyntaxError is a JSON syntax error at b[pos] (pos == len(b) at the end
// of the input).
type harSyntaxError struct {
	pos int
	msg string
	// eof is set for errors found at the end of the input, which
	// encoding/json reports at offset len(b) rather than pos+1.
	eof bool
}

// harStrPlain marks the bytes that stand for themselves in a JSON string.
var harStrPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func harIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// harValidate reports whether b is one JSON value, like json.Valid, and
// where and why not.
func harValidate(b []byte) *harSyntaxError {
	v := harValidator{b: b}
	v.ws()
	if err := v.value(0); err != nil {
		return err
	}
	v.ws()
	if v.i < len(b) {
		return v.fail("after top-level value")
	}
	return nil
}

type harValidator struct {
	b []byte
	i int
}

// fail is encoding/json's error for the byte at i, or for the end of the
// input.
func (v *harValidator) fail(context string) *harSyntaxError {
	if v.i >= len(v.b) {
		return &harSyntaxError{pos: len(v.b), msg: "unexpected end of JSON input", eof: true}
	}
	return &harSyntaxError{pos: v.i, msg: "invalid character " + harQuoteChar(v.b[v.i]) + " " + context}
}

// failEOF is the error for a value cut by the end of the input where
// encoding/json, which feeds a space at the end, reports that space.
func (v *harValidator) failEOF(context string) *harSyntaxError {
	if v.i >= len(v.b) {
		return &harSyntaxError{pos: len(v.b), msg: "invalid character ' ' " + context, eof: true}
	}
	return v.fail(context)
}

// harQuoteChar is encoding/json's quoteChar.
func harQuoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func (v *harValidator) ws() {
	for v.i < len(v.b) {
		switch v.b[v.i] {
		case ' ', '\t', '\r', '\n':
			v.i++
		default:
			return
		}
	}
}

// value checks the value at i, inside depth containers.
func (v *harValidator) value(depth int) *harSyntaxError {
	if v.i >= len(v.b) {
		return v.fail("")
	}
	switch c := v.b[v.i]; c {
	case '{':
		if depth+1 > harMaxDepth {
			return v.fail("exceeded max depth")
		}
		v.i++
		v.ws()
		if v.i < len(v.b) && v.b[v.i] == '}' {
			v.i++
			return nil
		}
		for {
			if v.i >= len(v.b) || v.b[v.i] != '"' {
				return v.fail("looking for beginning of object key string")
			}
			if err := v.str(); err != nil {
				return err
			}
			v.ws()
			if v.i >= len(v.b) || v.b[v.i] != ':' {
				return v.fail("after object key")
			}
			v.i++
			v.ws()
			if err := v.value(depth + 1); err != nil {
				return err
			}
			v.ws()
			if v.i >= len(v.b) {
				return v.fail("")
			}
			switch v.b[v.i] {
			case ',':
				v.i++
				v.ws()
			case '}':
				v.i++
				return nil
			default:
				return v.fail("after object key:value pair")
			}
		}
	case '[':
		if depth+1 > harMaxDepth {
			return v.fail("exceeded max depth")
		}
		v.i++
		v.ws()
		if v.i < len(v.b) && v.b[v.i] == ']' {
			v.i++
			return nil
		}
		for {
			if err := v.value(depth + 1); err != nil {
				return err
			}
			v.ws()
			if v.i >= len(v.b) {
				return v.fail("")
			}
			switch v.b[v.i] {
			case ',':
				v.i++
				v.ws()
			case ']':
				v.i++
				return nil
			default:
				return v.fail("after array element")
			}
		}
	case '"':
		return v.str()
	case 't':
		return v.literal("true")
	case 'f':
		return v.literal("false")
	case 'n':
		return v.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return v.number()
	}
	return v.fail("looking for beginning of value")
}

// str checks the string at i.
func (v *harValidator) str() *harSyntaxError {
	b := v.b
	i := v.i + 1
	for {
		for i < len(b) && harStrPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			v.i = i
			return v.fail("")
		}
		switch b[i] {
		case '"':
			v.i = i + 1
			return nil
		case '\\':
			i++
			if i >= len(b) {
				v.i = i
				return v.failEOF("in string escape code")
			}
			switch b[i] {
			case 'b', 'f', 'n', 'r', 't', '\\', '/', '"':
				i++
			case 'u':
				i++
				for k := 0; k < 4; k, i = k+1, i+1 {
					if i >= len(b) || !harIsHex(b[i]) {
						v.i = i
						return v.failEOF("in \\u hexadecimal character escape")
					}
				}
			default:
				v.i = i
				return v.fail("in string escape code")
			}
		default: // a control character
			v.i = i
			return v.fail("in string literal")
		}
	}
}

// literal checks true, false or null at i.
func (v *harValidator) literal(lit string) *harSyntaxError {
	for k := 1; k < len(lit); k++ {
		v.i++
		if v.i >= len(v.b) || v.b[v.i] != lit[k] {
			return v.failEOF("in literal " + lit + " (expecting " + harQuoteChar(lit[k]) + ")")
		}
	}
	v.i++
	return nil
}

// number checks the number at i.
func (v *harValidator) number() *harSyntaxError {
	b := v.b
	digits := func() {
		for v.i < len(b) && '0' <= b[v.i] && b[v.i] <= '9' {
			v.i++
		}
	}
	if b[v.i] == '-' {
		v.i++
		if v.i >= len(b) || b[v.i] < '0' || b[v.i] > '9' {
			return v.failEOF("in numeric literal")
		}
	}
	if b[v.i] == '0' {
		v.i++
	} else {
		digits()
	}
	if v.i < len(b) && b[v.i] == '.' {
		v.i++
		if v.i >= len(b) || b[v.i] < '0' || b[v.i] > '9' {
			return v.failEOF("after decimal point in numeric literal")
		}
		digits()
	}
	if v.i < len(b) && (b[v.i] == 'e' || b[v.i] == 'E') {
		v.i++
		if v.i < len(b) && (b[v.i] == '+' || b[v.i] == '-') {
			v.i++
		}
		if v.i >= len(b) || b[v.i] < '0' || b[v.i] > '9' {
			return v.failEOF("in exponent of numeric literal")
		}
		digits()
	}
	return nil
}

// ---------------------------------------------------------------------------
// A scanner over JSON that harValidate accepted

type harWalker struct {
	b   []byte
	pos int
}

func (w *harWalker) peek() byte {
	if w.pos < len(w.b) {
		return w.b[w.pos]
	}
	return 0
}

func (w *harWalker) ws() {
	for w.pos < len(w.b) {
		switch w.b[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// str moves past the string at pos and returns its raw content.
func (w *harWalker) str() []byte {
	start := w.pos + 1
	for i := start; i <= len(w.b); {
		j := bytes.IndexByte(w.b[i:], '"')
		if j < 0 {
			break
		}
		j += i
		k := j // an odd run of backslashes escapes the quote
		for k > start && w.b[k-1] == '\\' {
			k--
		}
		if (j-k)%2 == 0 {
			w.pos = j + 1
			return w.b[start:j]
		}
		i = j + 1
	}
	w.pos = len(w.b)
	return nil
}

// skip moves past the value at pos.
func (w *harWalker) skip() {
	switch w.peek() {
	case '"':
		w.str()
	case '{', '[':
		depth := 0
		for w.pos < len(w.b) {
			switch w.b[w.pos] {
			case '"':
				w.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					w.pos++
					return
				}
			}
			w.pos++
		}
	default:
		for w.pos < len(w.b) {
			switch w.b[w.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			w.pos++
		}
	}
}

// members calls fn for each member of the object at pos with its raw key
// and the offset of its value, and moves past the object. fn may move past
// the value itself; if it does not, members skips it.
func (w *harWalker) members(fn func(key []byte, at int)) {
	w.pos++ // {
	for w.pos < len(w.b) {
		w.ws()
		if w.peek() != '"' { // }
			w.pos++
			return
		}
		key := w.str()
		w.ws()
		w.pos++ // :
		w.ws()
		at := w.pos
		fn(key, at)
		if w.pos == at {
			w.skip()
		}
		w.ws()
		if w.peek() == ',' {
			w.pos++
			continue
		}
		w.pos++ // }
		return
	}
}

// elements is members for the elements of an array.
func (w *harWalker) elements(fn func(at int)) {
	w.pos++ // [
	for w.pos < len(w.b) {
		w.ws()
		if w.peek() == ']' {
			w.pos++
			return
		}
		at := w.pos
		fn(at)
		if w.pos == at {
			w.skip()
		}
		w.ws()
		if w.peek() == ',' {
			w.pos++
			continue
		}
		w.pos++ // ]
		return
	}
}
