package discover

// Comment syntax per language family.
type commentStyle int

const (
	commentsNone commentStyle = iota
	commentsC                 // // and /* */ (JS, TS, Go, Java, Kotlin, Swift, C#, Rust, PHP also #)
	commentsHash              // # (Python, Ruby, shell, YAML, TOML, Terraform also // and /* */)
	commentsPHP               // //, /* */ and #
	commentsTF                // #, // and /* */
)

// blankComments returns a copy of src with comments replaced by spaces,
// keeping newlines so that line numbers stay right. It follows string
// literals (', ", `) so that "//" or "#" inside a string is not a comment;
// it is a heuristic lexer, not a parser, and never fails.
func blankComments(src []byte, style commentStyle) []byte {
	if style == commentsNone {
		return src
	}
	out := make([]byte, len(src))
	copy(out, src)
	slash := style == commentsC || style == commentsPHP || style == commentsTF
	hash := style == commentsHash || style == commentsPHP || style == commentsTF
	blank := func(i, j int) {
		for k := i; k < j && k < len(out); k++ {
			if out[k] != '\n' {
				out[k] = ' '
			}
		}
	}
	var quote byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		if quote != 0 {
			switch {
			case c == '\\' && quote != '`':
				i++
			case c == quote:
				quote = 0
			case c == '\n' && quote != '`' && quote != '"' && quote != '\'':
				quote = 0
			}
			continue
		}
		switch {
		case c == '"' || c == '\'' || c == '`':
			// A quote that is an apostrophe in a word (Rust lifetimes,
			// English in Ruby heredocs) would swallow code; only open a
			// string where one can start.
			if c == '\'' && i > 0 && isWordByte(src[i-1]) {
				continue
			}
			quote = c
		case slash && c == '/' && i+1 < len(src) && src[i+1] == '/':
			// "https://" inside unquoted config is not a comment.
			if i > 0 && src[i-1] == ':' {
				continue
			}
			j := i
			for j < len(src) && src[j] != '\n' {
				j++
			}
			blank(i, j)
			i = j
		case slash && c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := i + 2
			for j+1 < len(src) && (src[j] != '*' || src[j+1] != '/') {
				j++
			}
			blank(i, j+2)
			i = j + 1
		case hash && c == '#' && (i == 0 || src[i-1] != '$') && !(i+1 < len(src) && src[i+1] == '{'):
			j := i
			for j < len(src) && src[j] != '\n' {
				j++
			}
			blank(i, j)
			i = j
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// lineIndex maps offsets to lines quickly for a file with many findings.
type lineIndex []int // offsets of line starts

func newLineIndex(src []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range src {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// line returns the 1-based line of offset off.
func (li lineIndex) line(off int) int {
	lo, hi := 0, len(li)
	for lo < hi {
		m := (lo + hi) / 2
		if li[m] <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// around returns the text of the line holding offset off, cut to at most
// limit bytes around off: evidence from a minified bundle's megabyte
// line must not copy the line for every finding on it.
func (li lineIndex) around(src []byte, off, limit int) string {
	n := li.line(off)
	start := li[n-1]
	end := len(src)
	if n < len(li) {
		end = li[n] - 1
	}
	if end-start > limit {
		start = max(start, off-limit/4)
		end = min(end, start+limit)
	}
	return string(src[start:end])
}

// balanced returns the end offset (exclusive) of the bracketed region that
// opens at src[open] ('(', '[' or '{'), following quotes, or open+limit when
// it does not close within limit bytes.
func balanced(src []byte, open, limit int) int {
	depth := 0
	var quote byte
	end := min(len(src), open+limit)
	for i := open; i < end; i++ {
		c := src[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'', '`':
			if c == '\'' && i > 0 && isWordByte(src[i-1]) {
				continue
			}
			quote = c
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return end
}
