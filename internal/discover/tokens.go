package discover

import "bytes"

// Hand-written scanners for patterns that occur on most lines of code, where
// a regular expression over the whole file would cost more than the rest of
// the scan. Each is checked against the regular expression it replaced by a
// fuzz test (tokens_test.go).

// envKeys returns the spans of upper-case words with an underscore:
// MIXPANEL_TOKEN, NEXT_PUBLIC_SENTRY_DSN (the regexp
// \b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b).
func envKeys(src []byte) [][2]int {
	var out [][2]int
	for i := 0; i < len(src); {
		if !isWordByte(src[i]) {
			i++
			continue
		}
		start := i
		for i < len(src) && isWordByte(src[i]) {
			i++
		}
		if isEnvKey(src[start:i]) {
			out = append(out, [2]int{start, i})
		}
	}
	return out
}

// isEnvKey reports whether w is [A-Z][A-Z0-9]*(_[A-Z0-9]+)+.
func isEnvKey(w []byte) bool {
	if len(w) == 0 || w[0] < 'A' || w[0] > 'Z' {
		return false
	}
	underscores, prev := 0, byte(0)
	for _, c := range w {
		switch {
		case c == '_':
			if prev == '_' {
				return false
			}
			underscores++
		case ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9'):
		default:
			return false
		}
		prev = c
	}
	return underscores > 0 && prev != '_'
}

// quotedHosts returns the spans of lower-case host names that open a
// string and end it or go on with a port or path: "api.mixpanel.com",
// 'https:' is not one, `cdn.segment.com/analytics.js` is (the regexp
// ["'`]((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})["'`/:]).
func quotedHosts(src []byte) [][2]int {
	var out [][2]int
	for i := 0; i < len(src); i++ {
		if c := src[i]; c != '"' && c != '\'' && c != '`' {
			continue
		}
		start := i + 1
		end := start
		for end < len(src) && isHostByte(src[end]) {
			end++
		}
		if end == start || end >= len(src) {
			continue
		}
		switch src[end] {
		case '"', '\'', '`', '/', ':':
		default:
			continue
		}
		if isLowerHost(src[start:end]) {
			out = append(out, [2]int{start, end})
			i = end // the regexp's matches do not overlap: go on after the terminator
		}
	}
	return out
}

func isHostByte(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '.'
}

// isLowerHost reports whether h is two or more dot-separated labels of
// [a-z0-9-] that neither start nor end with '-', the last one [a-z]{2,}.
func isLowerHost(h []byte) bool {
	labels, start := 0, 0
	for i := 0; i <= len(h); i++ {
		if i < len(h) && h[i] != '.' {
			continue
		}
		l := h[start:i]
		if len(l) == 0 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		if i == len(h) {
			if labels < 2 || len(l) < 2 {
				return false
			}
			for _, c := range l {
				if c < 'a' || c > 'z' {
					return false
				}
			}
		}
		start = i + 1
	}
	return true
}

// paramDefault is a parameter whose default is a constant:
// def initialize(tracker: MIXPANEL) or function f(client = SEGMENT).
type paramDefault struct{ name, constant string }

// paramDefaults finds them (the regexp
// [(,]\s*([a-z_]\w*)\s*(?::|=)\s*([A-Z][A-Z0-9_]{2,})\s*[,)]).
func paramDefaults(src []byte) []paramDefault {
	var out []paramDefault
	skip := func(p int) int {
		for p < len(src) && isSpaceByte(src[p]) {
			p++
		}
		return p
	}
	for i := 0; i < len(src); i++ {
		if src[i] != '(' && src[i] != ',' {
			continue
		}
		p := skip(i + 1)
		ns := p
		if p >= len(src) || !(src[p] == '_' || ('a' <= src[p] && src[p] <= 'z')) {
			continue
		}
		for p < len(src) && isWordByte(src[p]) {
			p++
		}
		ne := p
		p = skip(p)
		if p >= len(src) || (src[p] != ':' && src[p] != '=') {
			continue
		}
		p = skip(p + 1)
		cs := p
		if p >= len(src) || src[p] < 'A' || src[p] > 'Z' {
			continue
		}
		for p < len(src) && (('A' <= src[p] && src[p] <= 'Z') || ('0' <= src[p] && src[p] <= '9') || src[p] == '_') {
			p++
		}
		ce := p
		if ce-cs < 3 {
			continue
		}
		p = skip(p)
		if p >= len(src) || (src[p] != ',' && src[p] != ')') {
			continue
		}
		out = append(out, paramDefault{name: string(src[ns:ne]), constant: string(src[cs:ce])})
		i = p - 1 // the closing ',' may open the next parameter
	}
	return out
}

// assignment is name = expr or name := expr where expr begins with a
// chain of identifiers that is called, indexed by a block, or followed by
// a member access: tracker = Mixpanel::Tracker.new(…),
// $stripe = new \Stripe\StripeClient(…), client := segment.New(…).
type assignment struct {
	lhs string // @ and $ kept
	rhs string // the chain, with its separators
	off int    // of lhs
}

// assignments finds the assignments of src without a regular expression:
// they are on most lines of code, and a hand-written scan is ten times
// faster.
func assignments(src []byte) []assignment {
	var out []assignment
	for i := 0; i < len(src); {
		j := bytes.IndexByte(src[i:], '=')
		if j < 0 {
			break
		}
		eq := i + j
		i = eq + 1
		if eq+1 >= len(src) || src[eq+1] == '=' || src[eq+1] == '>' {
			i = eq + 2 // ==, =>
			continue
		}
		op := eq
		if eq > 0 && src[eq-1] == ':' {
			op = eq - 1
		}
		lhsStart, lhsEnd, ok := assignTarget(src, op)
		if !ok {
			continue
		}
		rhs, ok := assignSource(src, eq+1)
		if !ok {
			continue
		}
		out = append(out, assignment{lhs: string(src[lhsStart:lhsEnd]), rhs: rhs, off: lhsStart})
	}
	return out
}

// assignTarget finds the name assigned by the operator at op: an identifier
// (with an optional @ or $) that starts a line or follows white space, ';'
// or '('.
func assignTarget(src []byte, op int) (start, end int, ok bool) {
	k := op
	for k > 0 && isSpaceByte(src[k-1]) {
		k--
	}
	end = k
	for k > 0 && (isWordByte(src[k-1]) || src[k-1] == '$') {
		k--
	}
	if k == end {
		return 0, 0, false
	}
	name := src[k:end]
	if name[0] == '$' {
		name = name[1:]
	}
	if len(name) == 0 || !(name[0] == '_' || isLetter(name[0])) {
		return 0, 0, false
	}
	if k > 0 && src[k-1] == '@' {
		k--
	}
	if k > 0 && !isSpaceByte(src[k-1]) && src[k-1] != ';' && src[k-1] != '(' {
		return 0, 0, false
	}
	return k, end, true
}

// assignSource reads the chain of identifiers an assignment's value begins
// with, after an optional new, await or try, and returns the longest part
// of it that is followed by '(', '{' or '.'.
func assignSource(src []byte, p int) (string, bool) {
	for p < len(src) && isSpaceByte(src[p]) {
		p++
	}
	for _, kw := range [...]string{"new", "await", "try"} {
		if bytes.HasPrefix(src[p:], []byte(kw)) && p+len(kw) < len(src) && isSpaceByte(src[p+len(kw)]) {
			q := p + len(kw)
			for q < len(src) && isSpaceByte(src[q]) {
				q++
			}
			if rhs, ok := assignChain(src, q); ok {
				return rhs, true
			}
			break // the word itself may be the value: x = new (…) is x = new(…)
		}
	}
	return assignChain(src, p)
}

// assignChain reads a chain of identifiers at p and returns the longest
// part of it that is followed by '(', '{' or '.'.
func assignChain(src []byte, p int) (string, bool) {
	start := p
	if p < len(src) && src[p] == '\\' {
		p++
	}
	if p >= len(src) || !(src[p] == '_' || isLetter(src[p])) {
		return "", false
	}
	for p < len(src) && (isWordByte(src[p]) || src[p] == '\\') {
		p++
	}
	lastDot := -1 // end of the chain before its last '.' separator
	for {
		sep := 0
		switch {
		case bytes.HasPrefix(src[p:], []byte("::")), bytes.HasPrefix(src[p:], []byte("->")):
			sep = 2
		case p < len(src) && src[p] == '.':
			sep = 1
		}
		if sep == 0 || p+sep >= len(src) || !(src[p+sep] == '_' || isLetter(src[p+sep])) {
			break
		}
		if sep == 1 {
			lastDot = p
		}
		p += sep
		for p < len(src) && isWordByte(src[p]) {
			p++
		}
	}
	end := p
	for p < len(src) && isSpaceByte(src[p]) {
		p++
	}
	if p < len(src) && (src[p] == '(' || src[p] == '{' || src[p] == '.') {
		return string(src[start:end]), true
	}
	if lastDot >= 0 {
		return string(src[start:lastDot]), true
	}
	return "", false
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
