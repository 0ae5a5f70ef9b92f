package discover

import "strings"

// parseComposerJSON reads composer.json: require and require-dev. Platform
// requirements (php, ext-json, composer-plugin-api) have no vendor/ prefix
// and are left out.
func parseComposerJSON(f *manifestFile) ([]Dependency, error) {
	root, err := parseManifestJSONObject(f)
	if err != nil {
		return nil, err
	}
	var deps []Dependency
	for _, sec := range []struct {
		key string
		dev bool
	}{{"require", false}, {"require-dev", true}} {
		obj := root.field(sec.key)
		if !obj.isKind('o') {
			continue
		}
		for _, m := range obj.members {
			if strings.Contains(m.key, "/") {
				deps = append(deps, Dependency{Ecosystem: "composer", Name: m.key, Version: m.val.text(), Line: f.line(m.off), Dev: sec.dev})
			}
		}
	}
	return deps, nil
}

// parseComposerLock reads composer.lock: the "packages" and "packages-dev"
// arrays of objects with name and version.
func parseComposerLock(f *manifestFile) ([]Dependency, error) {
	root, err := parseManifestJSONObject(f)
	if err != nil {
		return nil, err
	}
	var deps []Dependency
	for _, sec := range []struct {
		key string
		dev bool
	}{{"packages", false}, {"packages-dev", true}} {
		arr := root.field(sec.key)
		if !arr.isKind('a') {
			continue
		}
		for _, p := range arr.elems {
			name, ok := p.fieldMember("name")
			if !ok || name.val.text() == "" {
				continue
			}
			deps = append(deps, Dependency{Ecosystem: "composer", Name: name.val.text(), Version: p.field("version").text(), Line: f.line(name.off), Dev: sec.dev})
		}
	}
	return deps, nil
}
