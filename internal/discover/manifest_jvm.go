package discover

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// newManifestXMLDecoder returns a strict XML decoder over the file that
// reads any declared encoding as is, since names in manifests are ASCII.
func newManifestXMLDecoder(f *manifestFile) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(f.data))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return d
}

// manifestXMLError turns a decoder error into one with the file, line and column.
func manifestXMLError(f *manifestFile, d *xml.Decoder, err error) error {
	line, col := d.InputPos()
	var syn *xml.SyntaxError
	if errors.As(err, &syn) {
		if syn.Line != line {
			line, col = syn.Line, 0
		}
		return f.errorAt(line, col, "invalid XML: %s", syn.Msg)
	}
	return f.errorAt(line, col, "invalid XML: %s", strings.TrimPrefix(err.Error(), "xml: "))
}

// walkManifestXML calls fn with every token of an XML document, the offset where
// it starts and the path of elements it is inside (for a start element,
// including itself).
func walkManifestXML(f *manifestFile, fn func(tok xml.Token, off int, path []string)) error {
	d := newManifestXMLDecoder(f)
	var path []string
	for {
		off := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return manifestXMLError(f, d, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			path = append(path, se.Name.Local)
		}
		fn(tok, off, path)
		if _, ok := tok.(xml.EndElement); ok && len(path) > 0 {
			path = path[:len(path)-1]
		}
	}
}

// pomDependency is a <dependency> of pom.xml being read.
type pomDependency struct {
	depth              int // length of the element path at <dependency>
	group, artifact    string
	version, scope     string
	line, artifactLine int
	field              string // the child element being read
	text               strings.Builder
}

// parsePom reads pom.xml: every <dependency> inside <dependencies> (of the
// project, dependencyManagement or a profile; not a plugin's), as
// groupId:artifactId; scope test is for development.
func parsePom(f *manifestFile) ([]Dependency, error) {
	var deps []Dependency
	var cur *pomDependency
	err := walkManifestXML(f, func(tok xml.Token, off int, path []string) {
		switch t := tok.(type) {
		case xml.StartElement:
			n := len(path)
			switch {
			case cur == nil && t.Name.Local == "dependency" && n >= 2 && path[n-2] == "dependencies" && (n < 3 || path[n-3] != "plugin"):
				cur = &pomDependency{depth: n, line: f.line(off)}
			case cur != nil && n == cur.depth+1:
				cur.field = t.Name.Local
				cur.text.Reset()
				if cur.field == "artifactId" {
					cur.artifactLine = f.line(off)
				}
			}
		case xml.CharData:
			if cur != nil && cur.field != "" {
				cur.text.Write(t)
			}
		case xml.EndElement:
			switch {
			case cur == nil:
			case len(path) == cur.depth+1:
				cur.set(strings.TrimSpace(cur.text.String()))
			case len(path) == cur.depth:
				if d, ok := cur.dependency(); ok {
					deps = append(deps, d)
				}
				cur = nil
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return deps, nil
}

// set stores the text of the child element just closed.
func (p *pomDependency) set(text string) {
	switch p.field {
	case "groupId":
		p.group = text
	case "artifactId":
		p.artifact = text
	case "version":
		p.version = text
	case "scope":
		p.scope = text
	}
	p.field = ""
}

// dependency returns the dependency read, when it has a group and artifact.
func (p *pomDependency) dependency() (Dependency, bool) {
	if p.group == "" || p.artifact == "" {
		return Dependency{}, false
	}
	line := p.line
	if p.artifactLine > 0 {
		line = p.artifactLine
	}
	return Dependency{
		Ecosystem: "maven", Name: p.group + ":" + p.artifact, Version: p.version,
		Line: line, Dev: p.scope == "test",
	}, true
}

// gradleConfigurations are dependency configurations by name; the value
// says whether they are for development (tests, build scripts, lint).
var gradleConfigurations = map[string]bool{
	"implementation": false, "api": false, "compile": false, "runtime": false,
	"compileOnly": false, "runtimeOnly": false, "annotationProcessor": false,
	"kapt": false, "ksp": false, "coreLibraryDesugaring": false, "wearApp": false,
	"classpath": true, "lintChecks": true, "detektPlugins": true,
}

// gradleConfiguration reports whether name is a dependency configuration
// (implementation, testImplementation, debugApi, kaptTest…), and whether
// it is for development.
func gradleConfiguration(name string) (dev, ok bool) {
	if dev, ok := gradleConfigurations[name]; ok {
		return dev, true
	}
	for _, suffix := range []string{"Implementation", "Api", "CompileOnly", "RuntimeOnly", "AnnotationProcessor", "Compile", "Runtime"} {
		if strings.HasSuffix(name, suffix) && len(name) > len(suffix) {
			ok = true
		}
	}
	ok = ok || strings.HasPrefix(name, "kapt") || strings.HasPrefix(name, "ksp")
	return ok && strings.Contains(strings.ToLower(name), "test"), ok
}

// gradlePlatformCalls wrap a coordinate: implementation(platform("g:a:v")).
var gradlePlatformCalls = map[string]bool{"platform": true, "enforcedPlatform": true, "testFixtures": true}

// parseGradle reads build.gradle and build.gradle.kts: a configuration
// followed by coordinate strings ("group:artifact:version"), possibly in
// parentheses and platform(...), or by map-style group/name/version
// arguments. Project, file and version catalog references are left out.
func parseGradle(f *manifestFile) ([]Dependency, error) {
	lx := manifestLexer{s: string(f.data)}
	var deps []Dependency
	var prev manifestToken
	for {
		t := lx.next()
		if t.kind == 0 {
			return deps, nil
		}
		if t.kind == 'i' && !prev.is('p', ".") {
			if dev, ok := gradleConfiguration(t.text); ok {
				ahead := lx
				for _, d := range gradleDependencies(f, &ahead) {
					d.Dev = dev
					deps = append(deps, d)
				}
			}
		}
		prev = t
	}
}

// gradleDependencies reads the arguments of a configuration call: one or
// more coordinates ('g:a:1', 'g:b:2' in Groovy) or one map.
func gradleDependencies(f *manifestFile, lx *manifestLexer) []Dependency {
	t := lx.next()
	if t.is('p', "(") {
		t = lx.next()
	}
	if t.kind == 'i' && gradlePlatformCalls[t.text] {
		if !lx.next().is('p', "(") {
			return nil
		}
		t = lx.next()
	}
	if t.kind == 'i' {
		if d, ok := gradleMapDependency(f, lx, t); ok {
			return []Dependency{d}
		}
		return nil
	}
	var deps []Dependency
	for range 32 {
		if t.kind != 's' {
			break
		}
		name, version, ok := splitGradleCoordinate(t.text)
		if !ok {
			break
		}
		deps = append(deps, Dependency{Ecosystem: "maven", Name: name, Version: version, Line: f.line(t.off)})
		if !lx.next().is('p', ",") {
			break
		}
		t = lx.next()
	}
	return deps
}

// gradleMapDependency reads group: 'g', name: 'a', version: 'v' (Groovy)
// or group = "g", name = "a" (Kotlin); t is the first key.
func gradleMapDependency(f *manifestFile, lx *manifestLexer, t manifestToken) (Dependency, bool) {
	var group, name, version manifestToken
	for range 8 {
		if t.kind != 'i' {
			break
		}
		if sep := lx.next(); !sep.is('p', ":") && !sep.is('p', "=") {
			break
		}
		v := lx.next()
		if v.kind != 's' {
			break
		}
		switch t.text {
		case "group":
			group = v
		case "name":
			name = v
		case "version":
			version = v
		}
		if !lx.next().is('p', ",") {
			break
		}
		t = lx.next()
	}
	if group.text == "" || name.text == "" || !isMavenPart(group.text) || !isMavenPart(name.text) {
		return Dependency{}, false
	}
	return Dependency{Ecosystem: "maven", Name: group.text + ":" + name.text, Version: version.text, Line: f.line(name.off)}, true
}

// splitGradleCoordinate splits "group:artifact[:version[:classifier]][@ext]"
// into "group:artifact" and the version.
func splitGradleCoordinate(s string) (name, version string, ok bool) {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "@")
	parts := strings.Split(s, ":")
	if len(parts) < 2 || !isMavenPart(parts[0]) || !isMavenPart(parts[1]) {
		return "", "", false
	}
	if len(parts) > 2 {
		version = parts[2]
	}
	return parts[0] + ":" + parts[1], version, true
}

// isMavenPart reports whether s can be a group or artifact id (or a
// property reference to one).
func isMavenPart(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._-${}", c) >= 0) {
			return false
		}
	}
	return true
}

// parseGradleVersionCatalog reads a Gradle version catalog
// (gradle/libs.versions.toml): the [libraries] entries, written as
// "group:artifact:version" or as a table with module or group and name.
func parseGradleVersionCatalog(f *manifestFile) ([]Dependency, error) {
	tables, err := parseManifestTOML(f)
	if err != nil {
		return nil, err
	}
	var deps []Dependency
	for i := range tables {
		t := &tables[i]
		switch {
		case len(t.path) == 1 && t.path[0] == "libraries":
			for _, kv := range t.kvs {
				if len(kv.key) == 1 {
					deps = appendGradleLibrary(deps, kv.val, kv.line)
				}
			}
		case len(t.path) == 2 && t.path[0] == "libraries" && !t.array:
			deps = appendGradleLibrary(deps, manifestValue{kind: 't', kvs: t.kvs}, t.line)
		}
	}
	return deps, nil
}

// appendGradleLibrary appends the library that a version catalog entry
// declares.
func appendGradleLibrary(deps []Dependency, spec manifestValue, line int) []Dependency {
	var coord, version string
	switch spec.kind {
	case 's':
		coord = spec.str
	case 't':
		coord = spec.getString("module")
		if g, n := spec.getString("group"), spec.getString("name"); coord == "" && g != "" && n != "" {
			coord = g + ":" + n
		}
		version = spec.getString("version")
	}
	name, v, ok := splitGradleCoordinate(coord)
	if !ok {
		return deps
	}
	if version == "" {
		version = v
	}
	return append(deps, Dependency{Ecosystem: "maven", Name: name, Version: version, Line: line})
}
