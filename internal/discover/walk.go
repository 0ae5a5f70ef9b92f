package discover

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// skipDirs are directories of vendored, generated or built code, skipped
// unless Options.IncludeVendored.
var skipDirs = map[string]bool{
	"node_modules": true, "bower_components": true, "jspm_packages": true, "vendor": true,
	"dist": true, "build": true, "out": true, ".next": true, ".nuxt": true, ".svelte-kit": true,
	".output": true, "coverage": true, "target": true, "Pods": true, "Carthage": true,
	".venv": true, "venv": true, "__pycache__": true, ".tox": true, ".mypy_cache": true,
	".terraform": true, ".gradle": true, "DerivedData": true, "generated": true, "__generated__": true,
}

// alwaysSkipDirs are never scanned: version control and tool state.
var alwaysSkipDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, ".idea": true, ".vscode": true}

// maxDepth bounds directory nesting; deeper trees are reported as skipped.
const maxDepth = 64

// walkFile is one file the walk hands to the scanner.
type walkFile struct {
	abs  string // path to open
	rel  string // slash path shown in evidence: the root as given joined with the path under it
	size int64
}

// walkStats counts what a walk left out.
type walkStats struct{ skipped int }

// walkRoot lists the files under root that discovery should read: it skips
// vendored and generated directories, files that .gitignore ignores,
// symlinks that leave the tree and directories reached through symlinks
// (which also rules out symlink loops).
func walkRoot(ctx context.Context, root string, opts *Options, st *walkStats, visit func(walkFile) error) error {
	info, err := os.Lstat(root)
	if err != nil {
		return err
	}
	shown := filepath.ToSlash(filepath.Clean(root))
	if info.Mode()&fs.ModeSymlink != 0 {
		// A root named on the command line is followed: the user asked
		// for it. Links inside it are not.
		if info, err = os.Stat(root); err != nil {
			return err
		}
	}
	if !info.IsDir() {
		return visit(walkFile{abs: root, rel: shown, size: info.Size()})
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	root = realRoot
	display := func(rel string) string {
		if shown == "." {
			return rel
		}
		return shown + "/" + rel
	}
	// Exclude patterns are checked apart from .gitignore files, so that no
	// negation in a .gitignore can bring an excluded path back.
	var ignores, excluded ignoreStack
	if len(opts.Exclude) > 0 {
		excluded = ignoreStack{parseGitignore("", []byte(strings.Join(opts.Exclude, "\n")))}
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if p == root {
				return err
			}
			st.skipped++ // unreadable: permission denied and the like
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			ignores = loadIgnore(ignores, root, "", opts)
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if alwaysSkipDirs[name] || (!opts.IncludeVendored && skipDirs[name]) ||
				strings.Count(rel, "/") >= maxDepth || excluded.ignored(rel, true) || ignores.ignored(rel, true) {
				st.skipped++
				return fs.SkipDir
			}
			ignores = loadIgnore(ignores, p, rel, opts)
			return nil
		}
		if excluded.ignored(rel, false) || ignores.ignored(rel, false) {
			st.skipped++
			return nil
		}
		if !opts.IncludeVendored && vendoredFile(name) {
			st.skipped++
			return nil
		}
		abs := p
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil || !within(realRoot, target) {
				st.skipped++ // dangling, or leaves the tree
				return nil
			}
			abs = target
		}
		fi, err := os.Stat(abs)
		if err != nil || !fi.Mode().IsRegular() {
			st.skipped++ // directories through symlinks, devices, sockets
			return nil
		}
		return visit(walkFile{abs: abs, rel: display(rel), size: fi.Size()})
	})
}

// loadIgnore returns stack with dir's .gitignore pushed, and with the files
// of directories the walk has left popped.
func loadIgnore(stack ignoreStack, dir, rel string, opts *Options) ignoreStack {
	for len(stack) > 0 {
		top := stack[len(stack)-1].dir
		if top == "" || rel == top || strings.HasPrefix(rel, top+"/") {
			break
		}
		stack = stack[:len(stack)-1]
	}
	if opts.NoGitignore {
		return stack
	}
	data, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil || len(data) > 1<<20 {
		return stack
	}
	return append(stack, parseGitignore(rel, data))
}

// within reports whether target is root or inside it.
func within(root, target string) bool {
	rel, err := filepath.Rel(root, target)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// vendoredFile reports files that are built rather than written: minified
// bundles and source maps.
func vendoredFile(name string) bool {
	lower := strings.ToLower(name)
	for _, suf := range []string{".min.js", ".min.mjs", ".min.css", ".map", ".bundle.js", ".chunk.js", "-min.js"} {
		if strings.HasSuffix(lower, suf) {
			return true
		}
	}
	return false
}

// generated reports content that says it was generated, or that looks
// minified (very long lines in a script).
func generated(name string, data []byte) bool {
	head := data[:min(len(data), 1024)]
	if bytes.Contains(head, []byte("@generated")) ||
		(bytes.Contains(head, []byte("Code generated")) && bytes.Contains(head, []byte("DO NOT EDIT"))) {
		return true
	}
	switch path.Ext(strings.ToLower(name)) {
	case ".js", ".mjs", ".cjs", ".css":
		lines := bytes.Count(data, []byte("\n")) + 1
		return len(data) > 4096 && len(data)/lines > 500
	}
	return false
}

// binary reports content with a NUL byte in its first 8 KB.
func binary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8192)], 0) >= 0
}
