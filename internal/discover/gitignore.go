package discover

import (
	"bytes"
	"path"
	"regexp"
	"strings"
)

// ignoreRule is one pattern of a .gitignore file.
type ignoreRule struct {
	re      *regexp.Regexp
	negate  bool
	dirOnly bool
}

// ignoreFile is the rules of one .gitignore, relative to its directory.
type ignoreFile struct {
	dir   string // slash path of the directory, relative to the scan root ("" for the root)
	rules []ignoreRule
}

// parseGitignore compiles the patterns of a .gitignore in dir. Lines it
// cannot compile are skipped, as git does.
func parseGitignore(dir string, data []byte) *ignoreFile {
	f := &ignoreFile{dir: dir}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if len(line) > 4096 {
			continue // no real pattern is that long
		}
		if !strings.HasSuffix(line, "\\ ") {
			// Trailing spaces are ignored unless escaped with a backslash.
			line = strings.TrimRight(line, " \t")
		}
		if line == "" || line[0] == '#' {
			continue
		}
		var r ignoreRule
		if line[0] == '!' {
			r.negate = true
			line = line[1:]
		} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly = true
			line = strings.TrimRight(line, "/")
		}
		if line == "" {
			continue
		}
		for strings.Contains(line, "**/**/") {
			line = strings.ReplaceAll(line, "**/**/", "**/")
		}
		anchored := strings.Contains(line, "/")
		line = strings.TrimPrefix(line, "/")
		re, err := regexp.Compile(globRegexp(line, anchored))
		if err != nil {
			continue
		}
		r.re = re
		f.rules = append(f.rules, r)
	}
	return f
}

// globRegexp translates a gitignore glob to a regular expression over a
// slash path relative to the .gitignore's directory.
func globRegexp(glob string, anchored bool) string {
	var b strings.Builder
	b.WriteString("^")
	if !anchored {
		b.WriteString("(?:.*/)?")
	}
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case c == '*' && strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case c == '*' && strings.HasPrefix(glob[i:], "**") && i+2 == len(glob):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := classEnd(glob, i)
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := glob[i+1 : end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i = end
		case c == '\\' && i+1 < len(glob):
			i++
			b.WriteString(regexp.QuoteMeta(string(glob[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	// The walk never enters an ignored directory, so a pattern only has to
	// match the path itself; matching what is under it too would let a
	// negation ("!logs") re-include files that other rules ignore.
	b.WriteString("$")
	return b.String()
}

// ignoreStack is the .gitignore files in force for a directory: the root's
// first, the nearest last.
type ignoreStack []*ignoreFile

// ignored reports whether the slash path rel (relative to the scan root) is
// ignored. The last matching rule wins, nearer files after farther ones.
func (s ignoreStack) ignored(rel string, isDir bool) bool {
	result := false
	for _, f := range s {
		sub := rel
		if f.dir != "" {
			if !strings.HasPrefix(rel, f.dir+"/") {
				continue
			}
			sub = rel[len(f.dir)+1:]
		}
		for _, r := range f.rules {
			if r.dirOnly && !isDir {
				// A directory-only rule matches a file only through one of
				// its parent directories.
				if matchesParentDir(r.re, sub) {
					result = !r.negate
				}
				continue
			}
			if r.re.MatchString(sub) {
				result = !r.negate
			}
		}
	}
	return result
}

// matchesParentDir reports whether re matches one of the directories that
// contain the slash path p.
func matchesParentDir(re *regexp.Regexp, p string) bool {
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		if re.MatchString(d) {
			return true
		}
	}
	return false
}

// classEnd returns the index of the ']' that closes the bracket expression
// opening at glob[open], or -1. A ']' right after '[' or '[!' is a member,
// and POSIX classes ([:digit:]) nest.
func classEnd(glob string, open int) int {
	j := open + 1
	if j < len(glob) && (glob[j] == '!' || glob[j] == '^') {
		j++
	}
	if j < len(glob) && glob[j] == ']' {
		j++
	}
	for j < len(glob) {
		if strings.HasPrefix(glob[j:], "[:") {
			k := strings.Index(glob[j+2:], ":]")
			if k < 0 {
				return -1
			}
			j += k + 4
			continue
		}
		if glob[j] == ']' {
			return j
		}
		j++
	}
	return -1
}
