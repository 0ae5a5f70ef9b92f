package discover

import (
	"slices"
	"strings"
)

// parseRequirements reads a pip requirements file (requirements*.txt,
// *.in): one PEP 508 requirement a line, with continuation lines, comments,
// options (-r, -c, -e, --hash…), extras and environment markers. A file
// whose name says dev or test (requirements-dev.txt) holds development
// dependencies.
func parseRequirements(f *manifestFile) ([]Dependency, error) {
	dev := isDevOnlyName(f.base)
	var deps []Dependency
	var logical strings.Builder
	first := 0
	f.eachLine(func(n int, line string) {
		if logical.Len() == 0 {
			first = n
		}
		if body, ok := strings.CutSuffix(line, `\`); ok && !isRequirementComment(line) {
			logical.WriteString(body)
			logical.WriteByte(' ')
			return
		}
		logical.WriteString(line)
		if name, version, ok := parseRequirement(stripRequirementComment(logical.String())); ok {
			deps = append(deps, Dependency{Ecosystem: "pypi", Name: name, Version: version, Line: first, Dev: dev})
		}
		logical.Reset()
	})
	if logical.Len() > 0 {
		if name, version, ok := parseRequirement(stripRequirementComment(logical.String())); ok {
			deps = append(deps, Dependency{Ecosystem: "pypi", Name: name, Version: version, Line: first, Dev: dev})
		}
	}
	return deps, nil
}

// isRequirementComment reports whether a line is a whole-line comment.
func isRequirementComment(line string) bool {
	return strings.HasPrefix(strings.TrimSpace(line), "#")
}

// stripRequirementComment removes a comment: a # at the start or after
// whitespace, as pip does.
func stripRequirementComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// parseRequirement parses one PEP 508 requirement as a requirements file
// or pyproject.toml writes it: name, optional [extras], a version
// specifier and ;markers. Options, URLs, paths and archives are not
// requirements by name and give ok=false.
func parseRequirement(s string) (name, version string, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if i := strings.Index(s, " --"); i >= 0 {
		s = strings.TrimSpace(s[:i]) // per-requirement options: --hash=…
	}
	n := 0
	for n < len(s) && isPEP508NameByte(s[n], n == 0) {
		n++
	}
	if n == 0 {
		return "", "", false
	}
	name, rest := s[:n], strings.TrimSpace(s[n:])
	lower := strings.ToLower(name)
	for _, ext := range []string{".whl", ".zip", ".gz", ".tgz", ".tar", ".bz2"} {
		if strings.HasSuffix(lower, ext) {
			return "", "", false
		}
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", false
		}
		rest = strings.TrimSpace(rest[end+1:])
	}
	switch {
	case rest == "", rest[0] == '@':
		return name, "", true
	case strings.IndexByte("<>=!~", rest[0]) >= 0:
		return name, rest, true
	case rest[0] == '(' && strings.HasSuffix(rest, ")"):
		return name, strings.TrimSpace(rest[1 : len(rest)-1]), true
	}
	return "", "", false
}

// isPEP508NameByte reports whether c may appear in a distribution name;
// the first byte must be a letter or digit.
func isPEP508NameByte(c byte, first bool) bool {
	alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	return alnum || !first && (c == '-' || c == '_' || c == '.')
}

// parsePyproject reads pyproject.toml: PEP 621 [project] dependencies and
// optional-dependencies (extras named dev or test are for development),
// PEP 735 [dependency-groups] and uv's dev-dependencies (all for
// development), and Poetry's dependency tables (leaving out "python").
func parsePyproject(f *manifestFile) ([]Dependency, error) {
	tables, err := parseManifestTOML(f)
	if err != nil {
		return nil, err
	}
	var deps []Dependency
	for i := range tables {
		t := &tables[i]
		for _, kv := range t.kvs {
			dev, ok := pep621Array(t.fullPath(kv))
			if !ok || kv.val.kind != 'a' {
				continue
			}
			for _, e := range kv.val.elems {
				if name, version, ok := parseRequirement(e.str); ok && e.kind == 's' {
					deps = append(deps, Dependency{Ecosystem: "pypi", Name: name, Version: version, Line: e.line, Dev: dev})
				}
			}
		}
	}
	for _, d := range tomlTableDeps(tables, "pypi", poetryDepTable) {
		if !strings.EqualFold(d.Name, "python") {
			deps = append(deps, d)
		}
	}
	return deps, nil
}

// pep621Array reports whether path names an array of PEP 508 requirements
// in pyproject.toml, and whether they are for development.
func pep621Array(path []string) (dev, ok bool) {
	switch {
	case slices.Equal(path, []string{"project", "dependencies"}):
		return false, true
	case len(path) == 3 && path[0] == "project" && path[1] == "optional-dependencies":
		return isDevOnlyName(path[2]), true
	case len(path) == 2 && path[0] == "dependency-groups":
		return true, true
	case slices.Equal(path, []string{"tool", "uv", "dev-dependencies"}):
		return true, true
	}
	return false, false
}

// poetryDepTable reports whether path is one of Poetry's dependency tables:
// [tool.poetry.dependencies], [tool.poetry.dev-dependencies] and
// [tool.poetry.group.<name>.dependencies], where any group but main is for
// development.
func poetryDepTable(path []string) (dev, ok bool) {
	if len(path) < 3 || path[0] != "tool" || path[1] != "poetry" {
		return false, false
	}
	switch {
	case len(path) == 3 && path[2] == "dependencies":
		return false, true
	case len(path) == 3 && path[2] == "dev-dependencies":
		return true, true
	case len(path) == 5 && path[2] == "group" && path[4] == "dependencies":
		return path[3] != "main", true
	}
	return false, false
}

// parsePipfile reads a Pipfile: [packages] and [dev-packages].
func parsePipfile(f *manifestFile) ([]Dependency, error) {
	tables, err := parseManifestTOML(f)
	if err != nil {
		return nil, err
	}
	return tomlTableDeps(tables, "pypi", func(path []string) (dev, ok bool) {
		if len(path) != 1 {
			return false, false
		}
		return path[0] == "dev-packages", path[0] == "packages" || path[0] == "dev-packages"
	}), nil
}

// parsePipfileLock reads Pipfile.lock: the "default" and "develop" objects.
func parsePipfileLock(f *manifestFile) ([]Dependency, error) {
	root, err := parseManifestJSONObject(f)
	if err != nil {
		return nil, err
	}
	var deps []Dependency
	for _, sec := range []struct {
		key string
		dev bool
	}{{"default", false}, {"develop", true}} {
		obj := root.field(sec.key)
		if !obj.isKind('o') {
			continue
		}
		for _, m := range obj.members {
			deps = append(deps, Dependency{Ecosystem: "pypi", Name: m.key, Version: m.val.field("version").text(), Line: f.line(m.off), Dev: sec.dev})
		}
	}
	return deps, nil
}

// parsePoetryLock reads poetry.lock: [[package]] tables, where category
// "dev" (Poetry before 1.2) marks development dependencies.
func parsePoetryLock(f *manifestFile) ([]Dependency, error) {
	return tomlLockPackages(f, "pypi", func(t *manifestTable, d *Dependency) bool {
		if c, ok := lookupManifestKV(t.kvs, "category"); ok && c.str == "dev" {
			d.Dev = true
		}
		return true
	})
}

// parseUVLock reads uv.lock: [[package]] tables, leaving out the project
// and its workspace members (an editable or virtual source).
func parseUVLock(f *manifestFile) ([]Dependency, error) {
	return tomlLockPackages(f, "pypi", func(t *manifestTable, _ *Dependency) bool {
		src, _ := lookupManifestKV(t.kvs, "source")
		_, editable := src.get("editable")
		_, virtual := src.get("virtual")
		return !editable && !virtual
	})
}

// tomlLockPackages reads the [[package]] tables of a TOML lock file, with
// name and version keys. keep may adjust each dependency and return false to
// leave it out.
func tomlLockPackages(f *manifestFile, ecosystem string, keep func(t *manifestTable, d *Dependency) bool) ([]Dependency, error) {
	tables, err := parseManifestTOML(f)
	if err != nil {
		return nil, err
	}
	var deps []Dependency
	for i := range tables {
		t := &tables[i]
		if !t.array || len(t.path) != 1 || t.path[0] != "package" {
			continue
		}
		var d Dependency
		for _, kv := range t.kvs {
			if len(kv.key) != 1 || kv.val.kind != 's' {
				continue
			}
			switch kv.key[0] {
			case "name":
				d.Name, d.Line = kv.val.str, kv.line
			case "version":
				d.Version = kv.val.str
			}
		}
		d.Ecosystem = ecosystem
		if d.Name != "" && keep(t, &d) {
			deps = append(deps, d)
		}
	}
	return deps, nil
}

// tomlTableDeps reads the dependency tables of a TOML manifest, where each
// key names a package: name = "1.0", name = { version = "1.0" }, the
// dotted name.version = "1.0", and a [table.name] of its own. isDepTable
// says which table paths hold dependencies, and whether for development.
// A "package" key renames (Cargo's package = "real-name").
func tomlTableDeps(tables []manifestTable, ecosystem string, isDepTable func(path []string) (dev, ok bool)) []Dependency {
	var deps []Dependency
	for i := range tables {
		t := &tables[i]
		if n := len(t.path); n > 0 && !t.array {
			if dev, ok := isDepTable(t.path[:n-1]); ok {
				d := tomlDepSpec(ecosystem, t.path[n-1], manifestValue{kind: 't', kvs: t.kvs}, t.line)
				d.Dev = dev
				deps = append(deps, d)
				continue
			}
		}
		var seen map[string]bool
		for _, kv := range t.kvs {
			full := t.fullPath(kv)
			n := len(full)
			if dev, ok := isDepTable(full[:n-1]); ok {
				d := tomlDepSpec(ecosystem, full[n-1], kv.val, kv.line)
				d.Dev = dev
				deps = append(deps, d)
				continue
			}
			if n < 2 {
				continue
			}
			if dev, ok := isDepTable(full[:n-2]); ok && !seen[full[n-2]] {
				if seen == nil {
					seen = map[string]bool{}
				}
				seen[full[n-2]] = true
				d := Dependency{Ecosystem: ecosystem, Name: full[n-2], Line: kv.line, Dev: dev}
				if full[n-1] == "version" && kv.val.kind == 's' {
					d.Version = kv.val.str
				}
				deps = append(deps, d)
			}
		}
	}
	return deps
}

// tomlDepSpec makes the dependency that key = spec declares: spec is a
// version string or a table with version and package keys.
func tomlDepSpec(ecosystem, key string, spec manifestValue, line int) Dependency {
	d := Dependency{Ecosystem: ecosystem, Name: key, Line: line}
	switch spec.kind {
	case 's':
		d.Version = spec.str
	case 't':
		d.Version = spec.getString("version")
		if p := spec.getString("package"); p != "" {
			d.Name = p
		}
	}
	return d
}
