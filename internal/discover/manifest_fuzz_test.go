package discover

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/weaklink/weaklink/internal/catalog"
)

// fuzzManifest fuzzes ParseManifest on the given file names, seeded with
// the test cases of their formats. Each input is parsed as every one of
// the names. No input may panic; every dependency must have a trimmed,
// valid UTF-8 name and a line inside the file, and every error must start
// with the path.
func fuzzManifest(f *testing.F, paths ...string) {
	formats := map[string]bool{}
	for _, p := range paths {
		formats[ManifestFormat(p)] = true
	}
	for _, c := range manifestCases {
		if formats[ManifestFormat(filepath.Base(strings.ReplaceAll(c.path, `\`, "/")))] {
			f.Add([]byte(c.data))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, path := range paths {
			deps, err := ParseManifest(path, data)
			if err != nil {
				if msg := err.Error(); !strings.HasPrefix(msg, path+":") || strings.Contains(msg, "internal error") {
					t.Fatalf("%s: bad error %q", path, msg)
				}
				continue
			}
			for _, d := range deps {
				if d.Name == "" || d.Name != strings.TrimSpace(d.Name) || !utf8.ValidString(d.Name) || !utf8.ValidString(d.Version) || d.Line < 1 || d.Line > lines {
					t.Fatalf("%s: bad dependency %+v in a file of %d lines", path, d, lines)
				}
				if !slices.Contains(catalog.Ecosystems, d.Ecosystem) {
					t.Fatalf("%s: bad ecosystem %+v", path, d)
				}
			}
		}
	})
}

func FuzzPackageJSON(f *testing.F)     { fuzzManifest(f, "package.json") }
func FuzzPackageLock(f *testing.F)     { fuzzManifest(f, "package-lock.json") }
func FuzzYarnLock(f *testing.F)        { fuzzManifest(f, "yarn.lock") }
func FuzzPnpmLock(f *testing.F)        { fuzzManifest(f, "pnpm-lock.yaml") }
func FuzzRequirements(f *testing.F)    { fuzzManifest(f, "requirements-dev.txt") }
func FuzzGoMod(f *testing.F)           { fuzzManifest(f, "go.mod") }
func FuzzGemfile(f *testing.F)         { fuzzManifest(f, "Gemfile") }
func FuzzGemfileLock(f *testing.F)     { fuzzManifest(f, "Gemfile.lock") }
func FuzzPom(f *testing.F)             { fuzzManifest(f, "pom.xml") }
func FuzzGradle(f *testing.F)          { fuzzManifest(f, "build.gradle", "build.gradle.kts") }
func FuzzCsproj(f *testing.F)          { fuzzManifest(f, "App.Tests.csproj", "packages.config") }
func FuzzComposer(f *testing.F)        { fuzzManifest(f, "composer.json", "composer.lock") }
func FuzzPodfile(f *testing.F)         { fuzzManifest(f, "Podfile", "Podfile.lock") }
func FuzzPackageSwift(f *testing.F)    { fuzzManifest(f, "Package.swift") }
func FuzzPackageResolved(f *testing.F) { fuzzManifest(f, "Package.resolved", "Pipfile.lock") }
func FuzzCargoToml(f *testing.F)       { fuzzManifest(f, "Cargo.toml", "Cargo.lock") }

// FuzzPyprojectTOML covers the TOML reader through every TOML format.
func FuzzPyprojectTOML(f *testing.F) {
	fuzzManifest(f, "pyproject.toml", "Pipfile", "poetry.lock", "uv.lock", "libs.versions.toml")
}
