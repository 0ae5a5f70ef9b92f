package discover

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Dependency is one package that a manifest or lock file names.
type Dependency struct {
	Ecosystem string // one of catalog.Ecosystems
	Name      string // as the catalog writes it (maven "group:artifact", swiftpm "github.com/owner/repo" without scheme and .git)
	Version   string // as written, may be ""
	Line      int    // 1-based line where the name appears
	Dev       bool   // a development/test-only dependency
	Lock      bool   // found in a lock file (transitive or pinned), not a manifest the developer edits
}

// manifestFormat is one manifest or lock file format.
type manifestFormat struct {
	parse func(f *manifestFile) ([]Dependency, error)
	lock  bool // every dependency it names is a lock file entry
}

// manifestFormats maps a format name, as ManifestFormat returns it, to its
// parser.
var manifestFormats = map[string]manifestFormat{
	"package.json":       {parse: parsePackageJSON},
	"package-lock.json":  {parse: parsePackageLock, lock: true},
	"yarn.lock":          {parse: parseYarnLock, lock: true},
	"pnpm-lock.yaml":     {parse: parsePnpmLock, lock: true},
	"requirements.txt":   {parse: parseRequirements},
	"pyproject.toml":     {parse: parsePyproject},
	"Pipfile":            {parse: parsePipfile},
	"Pipfile.lock":       {parse: parsePipfileLock, lock: true},
	"poetry.lock":        {parse: parsePoetryLock, lock: true},
	"uv.lock":            {parse: parseUVLock, lock: true},
	"go.mod":             {parse: parseGoMod},
	"Gemfile":            {parse: parseGemfile},
	"Gemfile.lock":       {parse: parseGemfileLock, lock: true},
	"pom.xml":            {parse: parsePom},
	"build.gradle":       {parse: parseGradle},
	"build.gradle.kts":   {parse: parseGradle},
	"libs.versions.toml": {parse: parseGradleVersionCatalog},
	"csproj":             {parse: parseMSBuild},
	"packages.config":    {parse: parseMSBuild},
	"composer.json":      {parse: parseComposerJSON},
	"composer.lock":      {parse: parseComposerLock, lock: true},
	"Podfile":            {parse: parsePodfile},
	"Podfile.lock":       {parse: parsePodfileLock, lock: true},
	"Package.swift":      {parse: parsePackageSwift},
	"Package.resolved":   {parse: parsePackageResolved, lock: true},
	"Cargo.toml":         {parse: parseCargoToml},
	"Cargo.lock":         {parse: parseCargoLock, lock: true},
}

// manifestAliases are file names that share a format with another name.
var manifestAliases = map[string]string{
	"npm-shrinkwrap.json":      "package-lock.json",
	"gems.rb":                  "Gemfile",
	"gems.locked":              "Gemfile.lock",
	"Directory.Packages.props": "csproj",
	"Directory.Build.props":    "csproj",
	"Directory.Build.targets":  "csproj",
}

// ManifestFormat returns the name of the manifest format of a file by its base name
// ("package.json", "yarn.lock", "requirements.txt", ...), or "" when it is not one.
//
// Project files (*.csproj, *.fsproj, *.vbproj and the Directory.*.props
// files) are "csproj"; requirements*.txt, *requirements*.in and
// constraints*.txt are "requirements.txt"; *.versions.toml Gradle version
// catalogs are "libs.versions.toml".
func ManifestFormat(base string) string {
	if _, ok := manifestFormats[base]; ok && base != "csproj" {
		return base
	}
	if f, ok := manifestAliases[base]; ok {
		return f
	}
	lower := strings.ToLower(base)
	switch ext := filepath.Ext(lower); {
	case ext == ".csproj" || ext == ".fsproj" || ext == ".vbproj":
		return "csproj"
	case strings.HasSuffix(lower, ".versions.toml") && len(lower) > len(".versions.toml"):
		return "libs.versions.toml"
	case (ext == ".txt" || ext == ".in") && (strings.Contains(lower, "requirements") || strings.Contains(lower, "constraints")):
		return "requirements.txt"
	}
	return ""
}

// ParseManifest parses data, the contents of the manifest at path (only its base name decides the format).
// Errors name the file and the line (and column when known): "web/package.json:12:5: ..." and never panic.
//
// Dependencies come in the order of their lines. Names and versions are
// trimmed, and invalid UTF-8 in them is replaced.
func ParseManifest(path string, data []byte) (deps []Dependency, err error) {
	base := filepath.Base(filepath.ToSlash(path))
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	name := ManifestFormat(base)
	format, ok := manifestFormats[name]
	if !ok {
		return nil, fmt.Errorf("%s: not a known manifest or lock file", path)
	}
	// The parsers are fuzzed not to panic; this is the last line of defence
	// for a scan over untrusted trees.
	defer func() {
		if r := recover(); r != nil {
			deps, err = nil, fmt.Errorf("%s: internal error parsing %s: %v", path, name, r)
		}
	}()
	f := &manifestFile{path: path, base: base, data: data}
	deps, err = format.parse(f)
	if err != nil {
		return nil, err
	}
	return cleanDependencies(deps, format.lock), nil
}

// cleanDependencies trims names and versions, drops unnamed entries, marks
// lock file entries and orders the rest by line.
func cleanDependencies(deps []Dependency, lock bool) []Dependency {
	out := deps[:0]
	for _, d := range deps {
		d.Name = strings.ToValidUTF8(strings.TrimSpace(d.Name), "\uFFFD")
		d.Version = strings.ToValidUTF8(strings.TrimSpace(d.Version), "\uFFFD")
		if d.Name == "" {
			continue
		}
		d.Line = max(d.Line, 1)
		d.Lock = d.Lock || lock
		out = append(out, d)
	}
	slices.SortStableFunc(out, func(a, b Dependency) int { return cmp.Compare(a.Line, b.Line) })
	return slices.Clip(out)
}

// manifestFile is a manifest being parsed: its path for errors, and its
// contents with an index of line starts built on first use.
type manifestFile struct {
	path   string
	base   string
	data   []byte
	starts []int // byte offsets where lines start
}

// pos returns the 1-based line and byte column of offset off.
func (f *manifestFile) pos(off int) (line, col int) {
	if f.starts == nil {
		f.starts = append(f.starts, 0)
		for i, c := range f.data {
			if c == '\n' {
				f.starts = append(f.starts, i+1)
			}
		}
	}
	off = min(max(off, 0), len(f.data))
	i := sort.SearchInts(f.starts, off+1) - 1
	return i + 1, off - f.starts[i] + 1
}

// line returns the 1-based line of offset off.
func (f *manifestFile) line(off int) int {
	l, _ := f.pos(off)
	return l
}

// errorAt returns an error at line and column (col 0 leaves it out).
func (f *manifestFile) errorAt(line, col int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch {
	case line <= 0:
		return fmt.Errorf("%s: %s", f.path, msg)
	case col <= 0:
		return fmt.Errorf("%s:%d: %s", f.path, line, msg)
	}
	return fmt.Errorf("%s:%d:%d: %s", f.path, line, col, msg)
}

// errorAtOffset returns an error at byte offset off.
func (f *manifestFile) errorAtOffset(off int, format string, args ...any) error {
	line, col := f.pos(off)
	return f.errorAt(line, col, format, args...)
}

// eachLine calls fn with every line of the file, 1-based, without its line
// ending.
func (f *manifestFile) eachLine(fn func(n int, line string)) {
	s := string(f.data)
	for n := 1; s != ""; n++ {
		line, rest, _ := strings.Cut(s, "\n")
		fn(n, strings.TrimSuffix(line, "\r"))
		s = rest
	}
}

// devOnlyWords are words in a file, group or target name that mark
// development and test dependencies (requirements-dev.txt, group :test).
var devOnlyWords = map[string]bool{
	"dev": true, "devel": true, "develop": true, "development": true,
	"test": true, "tests": true, "testing": true, "unittests": true, "integrationtests": true,
}

// isDevOnlyName reports whether a word of name, split at anything but letters
// and digits, is one of devOnlyWords.
func isDevOnlyName(name string) bool {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
	return slices.ContainsFunc(words, func(w string) bool { return devOnlyWords[w] })
}

// unquoteManifest removes one pair of matching single or double quotes.
func unquoteManifest(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
