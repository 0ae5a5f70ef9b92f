package discover

import "strings"

// parsePodfile reads a Podfile: pod 'Name', '~> 1.0' lines, naming a
// subspec's pod (Firebase/Analytics is Firebase). Pods inside a test target
// (target 'AppTests' do) are for development.
func parsePodfile(f *manifestFile) ([]Dependency, error) {
	var deps []Dependency
	scanRubyDSL(f, func(n int, toks []rubyDSLToken, inDev bool) bool {
		for _, call := range []string{"target", "abstract_target"} {
			if args, ok := rubyDSLCallArgs(toks, call); ok {
				strs, _ := rubyDSLLeadingStrings(args)
				return len(strs) > 0 && isPodTestTarget(strs[0])
			}
		}
		args, ok := rubyDSLCallArgs(toks, "pod")
		if !ok {
			return false
		}
		strs, _ := rubyDSLLeadingStrings(args)
		if len(strs) == 0 {
			return false
		}
		name, _, _ := strings.Cut(strs[0], "/")
		deps = append(deps, Dependency{Ecosystem: "cocoapods", Name: name, Version: strings.Join(strs[1:], ", "), Line: n, Dev: inDev})
		return false
	})
	return deps, nil
}

// isPodTestTarget reports whether an Xcode target name is a test bundle's
// (AppTests, AppUITests, App-Specs).
func isPodTestTarget(name string) bool {
	lower := strings.ToLower(name)
	for _, suffix := range []string{"tests", "test", "specs", "spec"} {
		if strings.HasSuffix(lower, suffix) {
			return true
		}
	}
	return false
}

// parsePodfileLock reads Podfile.lock: the entries of its PODS list,
// indented by two spaces, once per pod (subspecs count as their pod).
func parsePodfileLock(f *manifestFile) ([]Dependency, error) {
	var deps []Dependency
	seen := map[string]bool{}
	section := ""
	f.eachLine(func(n int, line string) {
		if line != "" && line[0] != ' ' {
			section = strings.TrimSuffix(strings.TrimSpace(line), ":")
			return
		}
		entry, ok := strings.CutPrefix(line, "  - ")
		if section != "PODS" || !ok {
			return
		}
		entry = unquoteManifest(strings.TrimSuffix(strings.TrimSpace(entry), ":"))
		name, version := splitManifestLockSpec(entry)
		name, _, _ = strings.Cut(name, "/")
		if name != "" && !seen[name] {
			seen[name] = true
			deps = append(deps, Dependency{Ecosystem: "cocoapods", Name: name, Version: version, Line: n})
		}
	})
	return deps, nil
}

// parsePackageSwift reads Package.swift: each .package(url: "…", …) names
// its repository (github.com/owner/repo) and, by the first string after
// the URL, its version or branch; .package(id: "scope.name", …) names a
// registry package. Local packages (path:) are left out.
func parsePackageSwift(f *manifestFile) ([]Dependency, error) {
	lx := manifestLexer{s: string(f.data)}
	var deps []Dependency
	var prev manifestToken
	for {
		t := lx.next()
		if t.kind == 0 {
			return deps, nil
		}
		if t.is('i', "package") && prev.is('p', ".") {
			ahead := lx
			if d, ok := swiftPackageCall(f, &ahead); ok {
				deps = append(deps, d)
			}
		}
		prev = t
	}
}

// swiftPackageCall reads the arguments of a .package( call, looking at no
// more than a bounded number of tokens.
func swiftPackageCall(f *manifestFile, lx *manifestLexer) (Dependency, bool) {
	if !lx.next().is('p', "(") {
		return Dependency{}, false
	}
	d := Dependency{Ecosystem: "swiftpm"}
	depth := 1
	var prev, label manifestToken
	for range 64 {
		t := lx.next()
		switch {
		case t.kind == 0:
			return d, false
		case t.is('p', "("):
			depth++
		case t.is('p', ")"):
			if depth--; depth == 0 {
				return d, d.Name != ""
			}
		case t.kind == 's' && prev.is('p', ":") && d.Name == "" && (label.text == "url" || label.text == "id"):
			d.Line = f.line(t.off)
			d.Name = t.text
			if label.text == "url" {
				d.Name = swiftPackageName(t.text)
			}
		case t.kind == 's' && d.Name != "" && d.Version == "":
			d.Version = t.text
		}
		label, prev = prev, t
	}
	return d, d.Name != ""
}

// swiftPackageName turns a repository URL into the catalog's form:
// https://github.com/owner/repo.git and git@github.com:owner/repo are both
// github.com/owner/repo.
func swiftPackageName(url string) string {
	u := strings.TrimSpace(url)
	scheme := false
	if i := strings.Index(u, "://"); i >= 0 {
		u, scheme = u[i+3:], true
	}
	slash := strings.IndexByte(u, '/')
	if at := strings.IndexByte(u, '@'); at >= 0 && (slash < 0 || at < slash) {
		u = u[at+1:]
	}
	if colon := strings.IndexByte(u, ':'); !scheme && colon >= 0 && (slash < 0 || colon < slash) {
		u = u[:colon] + "/" + u[colon+1:] // scp-like: host:owner/repo
	}
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	return strings.TrimPrefix(u, "www.")
}

// parsePackageResolved reads Package.resolved: version 1's
// object.pins[].repositoryURL and version 2's and 3's pins[].location, with
// the pinned version, or else branch.
func parsePackageResolved(f *manifestFile) ([]Dependency, error) {
	root, err := parseManifestJSONObject(f)
	if err != nil {
		return nil, err
	}
	pins := root.field("pins")
	if obj := root.field("object"); obj != nil {
		pins = obj.field("pins")
	}
	if !pins.isKind('a') {
		return nil, nil
	}
	var deps []Dependency
	for _, p := range pins.elems {
		loc, ok := p.fieldMember("location")
		if !ok {
			loc, ok = p.fieldMember("repositoryURL")
		}
		if !ok || loc.val.text() == "" {
			continue
		}
		name := swiftPackageName(loc.val.text())
		if p.field("kind").text() == "registry" {
			name = loc.val.text()
		}
		state := p.field("state")
		version := state.field("version").text()
		if version == "" {
			version = state.field("branch").text()
		}
		deps = append(deps, Dependency{Ecosystem: "swiftpm", Name: name, Version: version, Line: f.line(loc.off)})
	}
	return deps, nil
}
