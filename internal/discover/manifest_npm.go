package discover

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// npmSections are the dependency objects of package.json.
var npmSections = []struct {
	key string
	dev bool
}{
	{"dependencies", false},
	{"devDependencies", true},
	{"optionalDependencies", false},
	{"peerDependencies", false},
}

// parsePackageJSON reads package.json: dependencies, devDependencies,
// optionalDependencies and peerDependencies.
func parsePackageJSON(f *manifestFile) ([]Dependency, error) {
	root, err := parseManifestJSONObject(f)
	if err != nil {
		return nil, err
	}
	var deps []Dependency
	for _, sec := range npmSections {
		obj := root.field(sec.key)
		if !obj.isKind('o') {
			continue
		}
		for _, m := range obj.members {
			deps = append(deps, Dependency{Ecosystem: "npm", Name: m.key, Version: m.val.text(), Line: f.line(m.off), Dev: sec.dev})
		}
	}
	return deps, nil
}

// parsePackageLock reads package-lock.json and npm-shrinkwrap.json: the
// "packages" object of lockfile versions 2 and 3, or else the nested
// "dependencies" of version 1.
func parsePackageLock(f *manifestFile) ([]Dependency, error) {
	root, err := parseManifestJSONObject(f)
	if err != nil {
		return nil, err
	}
	if pkgs := root.field("packages"); pkgs.isKind('o') {
		return packageLockPackages(f, pkgs), nil
	}
	var deps []Dependency
	packageLockV1(f, root.field("dependencies"), &deps)
	return deps, nil
}

// packageLockPackages reads the "node_modules/<name>" entries of a v2/v3
// lock file; the root ("") and workspace folders are the project itself.
func packageLockPackages(f *manifestFile, pkgs *manifestJSON) []Dependency {
	const nm = "node_modules/"
	var deps []Dependency
	for _, m := range pkgs.members {
		i := strings.LastIndex(m.key, nm)
		if i < 0 || m.val.field("link").isTrue() {
			continue
		}
		name := m.key[i+len(nm):]
		if real := m.val.field("name").text(); real != "" {
			name = real // an alias: "node_modules/foo": {"name": "bar"}
		}
		deps = append(deps, Dependency{
			Ecosystem: "npm", Name: name, Version: m.val.field("version").text(),
			Line: f.line(m.off), Dev: m.val.field("dev").isTrue(),
		})
	}
	return deps
}

// packageLockV1 reads the "dependencies" object of a v1 lock file and the
// ones nested in it.
func packageLockV1(f *manifestFile, obj *manifestJSON, deps *[]Dependency) {
	if !obj.isKind('o') {
		return
	}
	for _, m := range obj.members {
		*deps = append(*deps, Dependency{
			Ecosystem: "npm", Name: m.key, Version: m.val.field("version").text(),
			Line: f.line(m.off), Dev: m.val.field("dev").isTrue(),
		})
		packageLockV1(f, m.val.field("dependencies"), deps)
	}
}

// parseYarnLock reads yarn.lock, classic (v1) and berry (v2+): each entry
// starts with an unindented header listing the specs it resolves
// ("@scope/pkg@^1.0.0", pkg@npm:^1.2.0:), and its version is on a line
// indented by two spaces.
func parseYarnLock(f *manifestFile) ([]Dependency, error) {
	var deps []Dependency
	cur := -1
	f.eachLine(func(n int, line string) {
		if line == "" || line[0] == '#' {
			return
		}
		if line[0] != ' ' && line[0] != '\t' {
			cur = -1
			header, ok := strings.CutSuffix(strings.TrimSpace(line), ":")
			if name := yarnEntryName(header); ok && name != "" {
				deps = append(deps, Dependency{Ecosystem: "npm", Name: name, Line: n})
				cur = len(deps) - 1
			}
			return
		}
		if cur < 0 || deps[cur].Version != "" || !strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "   ") {
			return
		}
		if v, ok := strings.CutPrefix(line[2:], "version"); ok && v != "" && (v[0] == ' ' || v[0] == ':') {
			deps[cur].Version = unquoteManifest(strings.TrimSpace(strings.TrimPrefix(v, ":")))
		}
	})
	return deps, nil
}

// yarnEntryName returns the package name of a yarn.lock entry header: the
// name of its first spec, or of the package an npm: alias points to. It
// returns "" for the metadata entry and for workspace and linked packages.
func yarnEntryName(header string) string {
	spec := header
	if i := yarnSpecEnd(header); i >= 0 {
		spec = header[:i]
	}
	spec = unquoteManifest(strings.TrimSpace(spec))
	at := strings.IndexByte(spec[min(1, len(spec)):], '@') + 1
	if at <= 0 {
		return ""
	}
	name, rng := spec[:at], spec[at+1:]
	switch {
	case strings.HasPrefix(rng, "workspace:"), strings.HasPrefix(rng, "link:"), strings.HasPrefix(rng, "portal:"):
		return ""
	case strings.HasPrefix(rng, "npm:"):
		target := rng[len("npm:"):]
		if j := strings.IndexByte(target[min(1, len(target)):], '@') + 1; j > 0 {
			return target[:j]
		}
	}
	return name
}

// yarnSpecEnd returns the index of the first comma outside quotes, or -1.
func yarnSpecEnd(header string) int {
	quoted := false
	for i := 0; i < len(header); i++ {
		switch header[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				return i
			}
		}
	}
	return -1
}

// pnpmSections are the dependency maps of a pnpm importer.
var pnpmSections = map[string]bool{"dependencies": false, "devDependencies": true, "optionalDependencies": false}

// parsePnpmLock reads pnpm-lock.yaml (lockfile versions 5 to 9): the direct
// dependencies of the root or of each importer, and the "packages" keys
// (/pkg/1.2.3, /pkg@1.2.3, pkg@1.2.3(peer@1)).
func parsePnpmLock(f *manifestFile) ([]Dependency, error) {
	root, err := parseManifestYAML(f)
	if err != nil || root == nil {
		return nil, err
	}
	var deps []Dependency
	eachManifestYAMLPair(root, func(k, v *yaml.Node) {
		switch k.Value {
		case "importers":
			eachManifestYAMLPair(v, func(_, importer *yaml.Node) {
				eachManifestYAMLPair(importer, func(k, v *yaml.Node) { deps = pnpmImporterDeps(deps, k.Value, v) })
			})
		case "packages":
			eachManifestYAMLPair(v, func(k, v *yaml.Node) {
				name, version := pnpmPackageKey(k.Value)
				dev := manifestYAMLField(v, "dev")
				deps = append(deps, Dependency{
					Ecosystem: "npm", Name: name, Version: version, Line: k.Line,
					Dev: dev != nil && dev.Value == "true",
				})
			})
		default:
			deps = pnpmImporterDeps(deps, k.Value, v)
		}
	})
	return deps, nil
}

// pnpmImporterDeps appends the dependencies of one section of an importer
// when section is one of pnpmSections. A dependency's value is its version
// (v5) or a map with "specifier" and "version" (v6+); local links are left
// out.
func pnpmImporterDeps(deps []Dependency, section string, m *yaml.Node) []Dependency {
	dev, ok := pnpmSections[section]
	if !ok {
		return deps
	}
	eachManifestYAMLPair(m, func(k, v *yaml.Node) {
		version := v.Value
		if vv := manifestYAMLField(v, "version"); vv != nil {
			version = vv.Value
		}
		if strings.HasPrefix(version, "link:") {
			return
		}
		deps = append(deps, Dependency{Ecosystem: "npm", Name: k.Value, Version: version, Line: k.Line, Dev: dev})
	})
	return deps
}

// pnpmPackageKey splits a key of pnpm's "packages" map into name and
// version: /@scope/pkg/1.2.3_peer@1 (v5), /@scope/pkg@1.2.3(peer@1) (v6)
// and @scope/pkg@1.2.3 (v9).
func pnpmPackageKey(key string) (name, version string) {
	key = strings.TrimPrefix(key, "/")
	if at := strings.IndexByte(key[min(1, len(key)):], '@') + 1; at > 0 {
		name, version = key[:at], key[at+1:]
		if i := strings.IndexByte(version, '('); i >= 0 {
			version = version[:i]
		}
		return name, version
	}
	parts := strings.Split(key, "/")
	n := 1
	if strings.HasPrefix(key, "@") {
		n = 2
	}
	if len(parts) <= n {
		return key, ""
	}
	version, _, _ = strings.Cut(parts[n], "_")
	return strings.Join(parts[:n], "/"), version
}

// manifestYAMLLineRe finds the line in a YAML error message.
var manifestYAMLLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseManifestYAML reads the file as YAML and returns its top-level
// mapping, or nil when the document is empty. The YAML library's panics,
// should one remain, become errors.
func parseManifestYAML(f *manifestFile) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, f.errorAt(0, 0, "invalid YAML")
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(f.data, &doc); err != nil {
		msg := strings.SplitN(err.Error(), "\n", 2)[0]
		if m := manifestYAMLLineRe.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, f.errorAt(line, 0, "invalid YAML: %s", m[2])
		}
		return nil, f.errorAt(0, 0, "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, f.errorAt(doc.Content[0].Line, doc.Content[0].Column, "invalid %s: the top-level value is not a mapping", f.base)
	}
	return doc.Content[0], nil
}

// eachManifestYAMLPair calls fn with the key and value of every pair of a mapping.
func eachManifestYAMLPair(m *yaml.Node, fn func(k, v *yaml.Node)) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		fn(m.Content[i], m.Content[i+1])
	}
}

// manifestYAMLField returns the value of key in a mapping, or nil.
func manifestYAMLField(m *yaml.Node, key string) *yaml.Node {
	var found *yaml.Node
	eachManifestYAMLPair(m, func(k, v *yaml.Node) {
		if k.Value == key {
			found = v
		}
	})
	return found
}
