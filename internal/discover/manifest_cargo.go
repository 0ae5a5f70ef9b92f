package discover

// parseCargoToml reads Cargo.toml: [dependencies], [dev-dependencies]
// (for development), [build-dependencies], their [target.'cfg(…)'.…]
// variants and [workspace.dependencies], each entry written as
// name = "1", name = { version = "1" } or [dependencies.name]. A renamed
// dependency (package = "real") is named by its package.
func parseCargoToml(f *manifestFile) ([]Dependency, error) {
	tables, err := parseManifestTOML(f)
	if err != nil {
		return nil, err
	}
	return tomlTableDeps(tables, "cargo", cargoDepTable), nil
}

// cargoDepTable reports whether path is a dependency table of Cargo.toml,
// and whether it is for development.
func cargoDepTable(path []string) (dev, ok bool) {
	switch {
	case len(path) == 1:
		return cargoDepSection(path[0])
	case len(path) == 2 && path[0] == "workspace" && path[1] == "dependencies":
		return false, true
	case len(path) == 3 && path[0] == "target":
		return cargoDepSection(path[2])
	}
	return false, false
}

// cargoDepSection classifies a dependency section name.
func cargoDepSection(name string) (dev, ok bool) {
	switch name {
	case "dependencies", "build-dependencies", "build_dependencies":
		return false, true
	case "dev-dependencies", "dev_dependencies":
		return true, true
	}
	return false, false
}

// parseCargoLock reads Cargo.lock: [[package]] tables with a source; those
// without one are the workspace's own crates.
func parseCargoLock(f *manifestFile) ([]Dependency, error) {
	return tomlLockPackages(f, "cargo", func(t *manifestTable, _ *Dependency) bool {
		_, ok := lookupManifestKV(t.kvs, "source")
		return ok
	})
}
