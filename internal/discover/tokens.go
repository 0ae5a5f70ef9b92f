package discover

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
