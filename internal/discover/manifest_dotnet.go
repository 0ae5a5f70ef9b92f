package discover

import (
	"encoding/xml"
	"strings"
)

// parseMSBuild reads NuGet references from MSBuild project files (*.csproj,
// *.fsproj, *.vbproj, Directory.Packages.props) and packages.config:
// <PackageReference Include="X" Version="1"/> (Version may be a child
// element), <PackageVersion> and <GlobalPackageReference>, and
// <package id="X" version="1"/>. A project whose name says test
// (App.Tests.csproj) and developmentDependency="true" mark development
// dependencies.
func parseMSBuild(f *manifestFile) ([]Dependency, error) {
	projectDev := isDevOnlyName(f.base)
	var deps []Dependency
	open, openDepth := -1, 0 // the reference whose child elements are being read
	inVersion := false
	err := walkManifestXML(f, func(tok xml.Token, off int, path []string) {
		switch t := tok.(type) {
		case xml.StartElement:
			if open >= 0 && len(path) == openDepth+1 && t.Name.Local == "Version" {
				inVersion = true
				return
			}
			d, ok := nugetReference(t, projectDev)
			if !ok {
				return
			}
			d.Line = f.line(off + manifestAttrOffset(f.data, off, d.Name))
			deps = append(deps, d)
			open, openDepth = len(deps)-1, len(path)
		case xml.CharData:
			if inVersion && deps[open].Version == "" {
				deps[open].Version = strings.TrimSpace(string(t))
			}
		case xml.EndElement:
			inVersion = false
			if len(path) == openDepth {
				open = -1
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return deps, nil
}

// nugetReference returns the package that an element references, if any.
func nugetReference(e xml.StartElement, projectDev bool) (Dependency, bool) {
	var nameAttr, versionAttr string
	switch e.Name.Local {
	case "PackageReference", "PackageVersion", "GlobalPackageReference":
		nameAttr, versionAttr = "Include", "Version"
	case "package":
		nameAttr, versionAttr = "id", "version"
	default:
		return Dependency{}, false
	}
	d := Dependency{Ecosystem: "nuget", Dev: projectDev}
	for _, a := range e.Attr {
		switch {
		case a.Name.Local == nameAttr, a.Name.Local == "Update" && nameAttr == "Include" && d.Name == "":
			d.Name = strings.TrimSpace(a.Value)
		case a.Name.Local == versionAttr, a.Name.Local == "VersionOverride" && d.Version == "":
			d.Version = strings.TrimSpace(a.Value)
		case a.Name.Local == "developmentDependency" && strings.EqualFold(a.Value, "true"):
			d.Dev = true
		}
	}
	// A name from an MSBuild property, $(Name), is not a package's.
	return d, d.Name != "" && !strings.Contains(d.Name, "$(")
}

// manifestAttrOffset returns where the quoted attribute value appears in the
// tag that starts at off, relative to off, or 0 when it cannot be found
// (an entity in the value, or a very long tag).
func manifestAttrOffset(data []byte, off int, value string) int {
	if off < 0 || off >= len(data) {
		return 0
	}
	tag := string(data[off:min(len(data), off+4096)])
	if end := strings.IndexByte(tag, '>'); end >= 0 {
		tag = tag[:end]
	}
	for _, q := range []string{`"`, "'"} {
		if i := strings.Index(tag, q+value+q); i >= 0 {
			return i + 1
		}
	}
	return 0
}
