package discover

import "bytes"

// excerpt is the lines of a file that contain one of a few keywords, joined
// into one text, with a map back to the file's offsets. Regular expressions
// that can only match on such lines (import statements, assignments) run on
// the excerpt instead of the whole file: a few per cent of its size.
type excerpt struct {
	text []byte
	segs []excerptSeg
}

// excerptSeg is a run of whole lines copied from the file.
type excerptSeg struct{ at, orig, n int }

// maxContinuation bounds how many lines an unclosed bracket pulls in after
// a keyword line: import { a,\n b } from "x" spans lines.
const maxContinuation = 64

// newExcerpt returns the lines of src holding any of keywords, each with
// the lines that follow it while its brackets stay open.
func newExcerpt(src []byte, keywords ...string) *excerpt {
	e := &excerpt{}
	next := 0 // first offset not yet copied
	// pos[k] is the next occurrence of keyword k at or after next (or -1),
	// searched again only once next has passed it.
	pos := make([]int, len(keywords))
	for k := range pos {
		pos[k] = -2 // not searched yet
	}
	for next < len(src) {
		hit := -1
		for k, kw := range keywords {
			if pos[k] == -2 || (pos[k] >= 0 && pos[k] < next) {
				if i := bytes.Index(src[next:], []byte(kw)); i >= 0 {
					pos[k] = next + i
				} else {
					pos[k] = -1
				}
			}
			if pos[k] >= 0 && (hit < 0 || pos[k] < hit) {
				hit = pos[k]
			}
		}
		if hit < 0 {
			break
		}
		start := bytes.LastIndexByte(src[:hit], '\n') + 1
		start = max(start, next)
		end, depth := start, 0
		for n := 0; end < len(src) && n <= maxContinuation; n++ {
			lineEnd := bytes.IndexByte(src[end:], '\n')
			if lineEnd < 0 {
				lineEnd = len(src)
			} else {
				lineEnd += end + 1
			}
			for _, c := range src[end:lineEnd] {
				switch c {
				case '(', '{', '[':
					depth++
				case ')', '}', ']':
					depth--
				}
			}
			end = lineEnd
			if depth <= 0 {
				break
			}
		}
		e.add(src[start:end], start)
		next = end
	}
	return e
}

func (e *excerpt) add(lines []byte, orig int) {
	if n := len(e.segs); n > 0 && e.segs[n-1].orig+e.segs[n-1].n == orig {
		e.segs[n-1].n += len(lines) // adjacent lines: one segment
	} else {
		e.segs = append(e.segs, excerptSeg{at: len(e.text), orig: orig, n: len(lines)})
	}
	e.text = append(e.text, lines...)
}

// orig maps an offset of the excerpt to the file.
func (e *excerpt) orig(off int) int {
	lo, hi := 0, len(e.segs)
	for lo < hi {
		m := (lo + hi) / 2
		if e.segs[m].at <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return off
	}
	s := e.segs[lo-1]
	return s.orig + off - s.at
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
