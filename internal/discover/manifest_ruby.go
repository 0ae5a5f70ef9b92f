package discover

import "strings"

// rubyDSLToken is a token of one line of a Ruby DSL (Gemfile, Podfile).
type rubyDSLToken struct {
	kind byte // 's' string, 'y' symbol, 'k' hash key (name: or :name =>), 'i' identifier, 'p' punctuation
	text string
}

// is reports whether the token is of kind and has text.
func (t rubyDSLToken) is(kind byte, text string) bool { return t.kind == kind && t.text == text }

// rubyDSLTokens splits one line of Ruby into tokens, up to a comment.
// Unterminated strings end at the end of the line.
func rubyDSLTokens(line string) []rubyDSLToken {
	var toks []rubyDSLToken
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			return toks
		case c == '"' || c == '\'':
			s, n := rubyDSLString(line[i:])
			toks = append(toks, rubyDSLToken{'s', s})
			i += n
		case c == ':' && i+1 < len(line) && isRubyDSLIdentByte(line[i+1]):
			j := i + 1
			for j < len(line) && isRubyDSLIdentByte(line[j]) {
				j++
			}
			toks = append(toks, rubyDSLToken{'y', line[i+1 : j]})
			i = j
		case c == ':' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\''):
			s, n := rubyDSLString(line[i+1:])
			toks = append(toks, rubyDSLToken{'y', s})
			i += 1 + n
		case c == '=' && strings.HasPrefix(line[i:], "=>"):
			if k := len(toks) - 1; k >= 0 && (toks[k].kind == 'y' || toks[k].kind == 's') {
				toks[k].kind = 'k'
			}
			i += 2
		case isRubyDSLIdentByte(c):
			j := i
			for j < len(line) && isRubyDSLIdentByte(line[j]) {
				j++
			}
			if j < len(line) && (line[j] == '?' || line[j] == '!') {
				j++
			}
			tok := rubyDSLToken{'i', line[i:j]}
			if j < len(line) && line[j] == ':' && !strings.HasPrefix(line[j:], "::") {
				tok.kind = 'k'
				j++
			}
			toks = append(toks, tok)
			i = j
		default:
			toks = append(toks, rubyDSLToken{'p', line[i : i+1]})
			i++
		}
	}
	return toks
}

// isRubyDSLIdentByte reports whether c may appear in an identifier.
func isRubyDSLIdentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c >= 0x80
}

// rubyDSLString reads a quoted string at the start of s and returns its value
// and length.
func rubyDSLString(s string) (string, int) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == q:
			return b.String(), i + 1
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), len(s)
}

// rubyDSLBlockKeywords open a block that end closes without a do.
var rubyDSLBlockKeywords = map[string]bool{
	"if": true, "unless": true, "case": true, "while": true, "until": true,
	"begin": true, "def": true, "class": true, "module": true, "for": true,
}

// scanRubyDSL walks a Ruby DSL file line by line, tracking its do…end
// blocks. fn gets each line's tokens and whether an enclosing block is for
// development, and says whether a block that the line opens is.
func scanRubyDSL(f *manifestFile, fn func(n int, toks []rubyDSLToken, inDev bool) (opensDev bool)) {
	var stack []bool // whether each open block is for development
	f.eachLine(func(n int, line string) {
		toks := rubyDSLTokens(line)
		if len(toks) == 0 {
			return
		}
		if toks[0].is('i', "end") {
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			return
		}
		inDev := len(stack) > 0 && stack[len(stack)-1]
		dev := fn(n, toks, inDev)
		if rubyDSLOpensBlock(toks) || toks[0].kind == 'i' && rubyDSLBlockKeywords[toks[0].text] {
			stack = append(stack, inDev || dev)
		}
	})
}

// rubyDSLOpensBlock reports whether a line ends with do or do |args|.
func rubyDSLOpensBlock(toks []rubyDSLToken) bool {
	i := len(toks) - 1
	if toks[i].is('p', "|") {
		for i--; i >= 0 && !toks[i].is('p', "|"); i-- {
		}
		i--
	}
	return i >= 0 && toks[i].is('i', "do")
}

// rubyDSLCallArgs returns the tokens after the method name of a call that
// starts a line (gem "x" or gem("x")), or ok=false when the line is not a
// call of name.
func rubyDSLCallArgs(toks []rubyDSLToken, name string) (args []rubyDSLToken, ok bool) {
	if len(toks) < 2 || !toks[0].is('i', name) {
		return nil, false
	}
	args = toks[1:]
	if args[0].is('p', "(") {
		args = args[1:]
	}
	return args, true
}

// rubyDSLLeadingStrings returns the strings at the start of args, separated
// by commas, and the tokens after them.
func rubyDSLLeadingStrings(args []rubyDSLToken) (strs []string, rest []rubyDSLToken) {
	for len(args) > 0 && args[0].kind == 's' {
		strs = append(strs, args[0].text)
		args = args[1:]
		if len(args) == 0 || !args[0].is('p', ",") {
			break
		}
		args = args[1:]
	}
	return strs, args
}

// rubyDSLGroupsAreDev reports whether named groups (symbols and strings) are
// all for development or tests; false when there are none.
func rubyDSLGroupsAreDev(toks []rubyDSLToken) bool {
	n := 0
	for _, t := range toks {
		if t.kind == 'k' || t.is('i', "do") {
			break
		}
		if t.kind == 'y' || t.kind == 's' {
			if !isDevOnlyName(t.text) {
				return false
			}
			n++
		}
	}
	return n > 0
}

// rubyDSLKeyArg returns the tokens after hash key key among args, up to the
// next key.
func rubyDSLKeyArg(args []rubyDSLToken, key string) []rubyDSLToken {
	for i, t := range args {
		if t.kind == 'k' && t.text == key {
			rest := args[i+1:]
			for j, u := range rest {
				if u.kind == 'k' {
					return rest[:j]
				}
			}
			return rest
		}
	}
	return nil
}

// parseGemfile reads a Gemfile: gem "name", "version" lines, which are for
// development inside group :development/:test blocks or with such a group:
// option.
func parseGemfile(f *manifestFile) ([]Dependency, error) {
	var deps []Dependency
	scanRubyDSL(f, func(n int, toks []rubyDSLToken, inDev bool) bool {
		if args, ok := rubyDSLCallArgs(toks, "group"); ok {
			return rubyDSLGroupsAreDev(args)
		}
		args, ok := rubyDSLCallArgs(toks, "gem")
		if !ok {
			return false
		}
		strs, rest := rubyDSLLeadingStrings(args)
		if len(strs) == 0 {
			return false
		}
		dev := inDev || rubyDSLGroupsAreDev(rubyDSLKeyArg(rest, "group")) || rubyDSLGroupsAreDev(rubyDSLKeyArg(rest, "groups"))
		deps = append(deps, Dependency{Ecosystem: "rubygems", Name: strs[0], Version: strings.Join(strs[1:], ", "), Line: n, Dev: dev})
		return false
	})
	return deps, nil
}

// parseGemfileLock reads Gemfile.lock: the specs of its GEM and GIT
// sections, indented by four spaces (their own dependencies, by six, are
// listed as specs too). PATH specs are the project's own gems.
func parseGemfileLock(f *manifestFile) ([]Dependency, error) {
	var deps []Dependency
	section, inSpecs := "", false
	f.eachLine(func(n int, line string) {
		switch {
		case line == "":
		case line[0] != ' ':
			section, inSpecs = strings.TrimSpace(line), false
		case section != "GEM" && section != "GIT":
		case strings.TrimSpace(line) == "specs:":
			inSpecs = true
		case !strings.HasPrefix(line, "   "):
			inSpecs = false // another key of the section: remote:, revision:
		case inSpecs && strings.HasPrefix(line, "    ") && len(line) > 4 && line[4] != ' ':
			name, version := splitManifestLockSpec(line[4:])
			deps = append(deps, Dependency{Ecosystem: "rubygems", Name: name, Version: version, Line: n})
		}
	})
	return deps, nil
}

// splitManifestLockSpec splits "name (version)" as Gemfile.lock and Podfile.lock
// write it.
func splitManifestLockSpec(s string) (name, version string) {
	name, rest, ok := strings.Cut(strings.TrimSpace(s), " (")
	if ok {
		version, _, _ = strings.Cut(rest, ")")
	}
	return strings.TrimSpace(name), strings.TrimSpace(version)
}
