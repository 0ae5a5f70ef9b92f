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
