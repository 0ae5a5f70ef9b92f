package discover

import (
	"strconv"
	"strings"
)

// parseGoMod reads go.mod: the require directives, single and in blocks.
// Indirect requirements are dependencies like any other; replace, exclude
// and the other directives name no dependency of their own.
func parseGoMod(f *manifestFile) ([]Dependency, error) {
	var deps []Dependency
	block, blockLine := "", 0
	f.eachLine(func(n int, line string) {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			return
		}
		if block != "" {
			if line == ")" {
				block = ""
			} else if block == "require" {
				deps = appendGoRequire(deps, line, n)
			}
			return
		}
		verb, rest := goModVerb(line)
		if rest == "(" {
			block, blockLine = verb, n
			return
		}
		if verb == "require" {
			deps = appendGoRequire(deps, rest, n)
		}
	})
	if block != "" {
		return nil, f.errorAt(blockLine, 0, "invalid go.mod: %s block is not closed", block)
	}
	return deps, nil
}

// goModVerb splits a go.mod line into its directive and the rest.
func goModVerb(line string) (verb, rest string) {
	i := 0
	for i < len(line) && 'a' <= line[i] && line[i] <= 'z' {
		i++
	}
	return line[:i], strings.TrimSpace(line[i:])
}

// appendGoRequire appends the module that a require line names: a path,
// possibly quoted, and its version.
func appendGoRequire(deps []Dependency, spec string, line int) []Dependency {
	fields := strings.Fields(spec)
	if len(fields) == 0 {
		return deps
	}
	path := fields[0]
	if path[0] == '"' || path[0] == '`' {
		p, err := strconv.Unquote(path)
		if err != nil {
			return deps
		}
		path = p
	}
	d := Dependency{Ecosystem: "go", Name: path, Line: line}
	if len(fields) > 1 {
		d.Version = fields[1]
	}
	return append(deps, d)
}
