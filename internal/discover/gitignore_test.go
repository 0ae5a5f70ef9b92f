package discover

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ignoreCheck is one path of a gitignore case and whether git ignores it.
type ignoreCheck struct {
	path    string // slash path relative to the root
	dir     bool
	ignored bool
}

// ignoreCase is a set of .gitignore files (by directory, "" for the root)
// and what git makes of some paths under them.
type ignoreCase struct {
	name   string
	files  map[string]string
	checks []ignoreCheck
}

func ignFile(p string, ignored bool) ignoreCheck { return ignoreCheck{path: p, ignored: ignored} }
func ignDir(p string, ignored bool) ignoreCheck {
	return ignoreCheck{path: p, dir: true, ignored: ignored}
}

// The expectations follow gitignore(5) and were checked against
// `git check-ignore`; TestGitignoreMatchesGit repeats that check whenever
// git is installed.
var ignoreCases = []ignoreCase{
	{
		name:  "plain name at any depth",
		files: map[string]string{"": "secret.txt\ntmp\n"},
		checks: []ignoreCheck{
			ignFile("secret.txt", true), ignFile("a/secret.txt", true), ignFile("a/b/secret.txt", true),
			ignFile("secret.txt.bak", false), ignFile("mysecret.txt", false), ignFile("a/secret.txtx", false),
			ignDir("tmp", true), ignDir("a/tmp", true), ignFile("a/tmp2/x.js", false), ignFile("tmpx", false),
		},
	},
	{
		name:  "plain name matching a directory ignores what is under it",
		files: map[string]string{"": "cache\n"},
		checks: []ignoreCheck{
			ignDir("cache", true), ignFile("cache/x.js", true), ignFile("a/cache/b/c.py", true), ignFile("cached.js", false),
		},
	},
	{
		name:  "leading slash anchors to the .gitignore's directory",
		files: map[string]string{"": "/root.txt\n/top\n"},
		checks: []ignoreCheck{
			ignFile("root.txt", true), ignFile("a/root.txt", false), ignDir("top", true), ignFile("top/x.js", true),
			ignDir("a/top", false), ignFile("a/top/x.js", false),
		},
	},
	{
		name:  "a slash in the middle anchors too",
		files: map[string]string{"": "doc/frotz\n"},
		checks: []ignoreCheck{
			ignFile("doc/frotz", true), ignFile("a/doc/frotz", false), ignFile("doc/frotzz", false),
		},
	},
	{
		name:  "trailing slash matches only directories and what is beneath them",
		files: map[string]string{"": "logs/\n"},
		checks: []ignoreCheck{
			ignDir("logs", true), ignFile("logs/app.js", true), ignDir("a/logs", true), ignFile("a/logs/b/c.js", true),
			ignFile("b/logs", false), ignFile("logsx/y.js", false),
		},
	},
	{
		name:  "anchored directory-only pattern",
		files: map[string]string{"": "/gen/objs/\n"},
		checks: []ignoreCheck{
			ignDir("gen/objs", true), ignFile("gen/objs/a.go", true), ignFile("gen/objsx/a.go", false), ignDir("x/gen/objs", false),
		},
	},
	{
		name:  "star does not cross a slash",
		files: map[string]string{"": "*.log\ndocs/*.md\n"},
		checks: []ignoreCheck{
			ignFile("a.log", true), ignFile("x/y/b.log", true), ignFile("log", false), ignFile("a.log.txt", false), ignDir("d.log", true),
			ignFile("docs/a.md", true), ignFile("docs/x/a.md", false), ignFile("a/docs/a.md", false),
		},
	},
	{
		name:  "question mark is one character, never a slash",
		files: map[string]string{"": "?.txt\na?b\n"},
		checks: []ignoreCheck{
			ignFile("a.txt", true), ignFile("sub/b.txt", true), ignFile("ab.txt", false), ignFile("axb", true), ignFile("a/b", false),
		},
	},
	{
		name:  "leading **/ matches in every directory",
		files: map[string]string{"": "**/foo\n**/bar/baz\n"},
		checks: []ignoreCheck{
			ignFile("a/foo", true), ignFile("a/b/foo", true), ignFile("c/foo/x.js", true), ignFile("afoo", false),
			ignFile("bar/baz", true), ignFile("x/bar/baz", true), ignFile("baz", false), ignFile("bar/x/baz", false),
		},
	},
	{
		name:  "trailing /** matches everything inside, not the directory itself",
		files: map[string]string{"": "foo/**\n!foo/keep.txt\n"},
		checks: []ignoreCheck{
			ignDir("foo", false), ignFile("foo/a.js", true), ignFile("foo/a/b.js", true), ignFile("foo/keep.txt", false),
			ignFile("a/foo/x.js", false),
		},
	},
	{
		name:  "/**/ matches zero or more directories",
		files: map[string]string{"": "a/**/b\n"},
		checks: []ignoreCheck{
			ignFile("a/b", true), ignFile("a/x/b", true), ignFile("a/x/y/b", true), ignFile("a/xb", false), ignFile("x/a/b", false),
		},
	},
	{
		name:  "negation re-includes",
		files: map[string]string{"": "*.log\n!keep.log\n"},
		checks: []ignoreCheck{
			ignFile("a.log", true), ignFile("keep.log", false), ignFile("sub/keep.log", false), ignFile("sub/x.log", true),
		},
	},
	{
		name:   "the last matching pattern wins",
		files:  map[string]string{"": "!keep.log\n*.log\n"},
		checks: []ignoreCheck{ignFile("keep.log", true), ignFile("other.log", true)},
	},
	{
		name:  "a file under an ignored directory cannot be re-included",
		files: map[string]string{"": "cache/\n!cache/keep.txt\n"},
		checks: []ignoreCheck{
			ignDir("cache", true), ignFile("cache/keep.txt", true), ignFile("cache/x.txt", true),
		},
	},
	{
		name:  "comments and escaped # and !",
		files: map[string]string{"": "# a comment\n#hash\n\\#notes\n\\!important\n"},
		checks: []ignoreCheck{
			ignFile("#notes", true), ignFile("notes", false), ignFile("#hash", false), ignFile("# a comment", false),
			ignFile("!important", true), ignFile("important", false),
		},
	},
	{
		name:  "trailing spaces are dropped unless escaped",
		files: map[string]string{"": "foo   \nbar\\ \n"},
		checks: []ignoreCheck{
			ignFile("foo", true), ignFile("foo ", false), ignFile("bar ", true), ignFile("bar", false),
		},
	},
	{
		name:   "CRLF line endings and blank lines",
		files:  map[string]string{"": "a.log\r\n\r\n\r\nb.tmp\r\n"},
		checks: []ignoreCheck{ignFile("a.log", true), ignFile("b.tmp", true), ignFile("c.txt", false)},
	},
	{
		name:  "character classes",
		files: map[string]string{"": "file[0-9].txt\n[!a]*.md\n*.[oa]\n"},
		checks: []ignoreCheck{
			ignFile("file1.txt", true), ignFile("sub/file7.txt", true), ignFile("filea.txt", false), ignFile("file10.txt", false),
			ignFile("b.md", true), ignFile("a.md", false), ignFile("x.o", true), ignFile("x.a", true), ignFile("x.c", false),
		},
	},
	{
		name:   "escaped glob characters are literal",
		files:  map[string]string{"": "\\*star\nq\\?\n"},
		checks: []ignoreCheck{ignFile("*star", true), ignFile("xstar", false), ignFile("q?", true), ignFile("qx", false)},
	},
	{
		name: "nested .gitignore applies only below its directory",
		files: map[string]string{
			"":    "*.tmp\n",
			"sub": "local.txt\n/anchored.txt\n!keep.tmp\n",
		},
		checks: []ignoreCheck{
			ignFile("local.txt", false), ignFile("sub/local.txt", true), ignFile("sub/deep/local.txt", true),
			ignFile("sub/anchored.txt", true), ignFile("sub/deep/anchored.txt", false), ignFile("anchored.txt", false),
			ignFile("sub/keep.tmp", false), ignFile("sub/deep/keep.tmp", false), ignFile("keep.tmp", true),
			ignFile("other/keep.tmp", true), ignFile("sub2/local.txt", false),
		},
	},
	{
		name: "a nested negation does not leak into siblings",
		files: map[string]string{
			"":  "*.gen.js\n",
			"a": "!*.gen.js\n",
		},
		checks: []ignoreCheck{ignFile("a/x.gen.js", false), ignFile("ab/x.gen.js", true), ignFile("b/x.gen.js", true)},
	},
}

// stackFor is the ignore stack the walk has in force for rel: the
// .gitignore files of the root and of every directory above rel.
func stackFor(files map[string]string, rel string) ignoreStack {
	var s ignoreStack
	parts := strings.Split(rel, "/")
	for i := 0; i < len(parts); i++ {
		dir := strings.Join(parts[:i], "/")
		if content, ok := files[dir]; ok {
			s = append(s, parseGitignore(dir, []byte(content)))
		}
	}
	return s
}

// effectivelyIgnored asks the question the way the walk does: a path is
// ignored when one of its directories is (the walk never enters it), or
// when it is itself.
func effectivelyIgnored(files map[string]string, rel string, isDir bool) bool {
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		dir := strings.Join(parts[:i], "/")
		if stackFor(files, dir).ignored(dir, true) {
			return true
		}
	}
	return stackFor(files, rel).ignored(rel, isDir)
}

func TestGitignoreRules(t *testing.T) {
	for _, tc := range ignoreCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range tc.checks {
				if got := effectivelyIgnored(tc.files, c.path, c.dir); got != c.ignored {
					t.Errorf("%q (dir=%v): ignored = %v, want %v", c.path, c.dir, got, c.ignored)
				}
			}
		})
	}
}

// materialize writes a case's .gitignore files and its paths under root.
func materialize(t *testing.T, root string, tc ignoreCase) {
	t.Helper()
	for dir, content := range tc.files {
		mustWrite(t, filepath.Join(root, filepath.FromSlash(dir), ".gitignore"), content)
	}
	for _, c := range tc.checks {
		p := filepath.Join(root, filepath.FromSlash(c.path))
		if c.dir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mustWrite(t, p, "x\n")
	}
}

// TestGitignoreWalk checks the same cases end to end: the files the walk
// hands to the scanner are exactly the ones git does not ignore.
func TestGitignoreWalk(t *testing.T) {
	for _, tc := range ignoreCases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			materialize(t, root, tc)
			visited := walkedFiles(t, root, Options{})
			for _, c := range tc.checks {
				if c.dir {
					continue
				}
				if got := !visited[c.path]; got != c.ignored {
					t.Errorf("%q: skipped by walk = %v, want %v", c.path, got, c.ignored)
				}
			}
			// NoGitignore reads everything.
			all := walkedFiles(t, root, Options{NoGitignore: true})
			for _, c := range tc.checks {
				if !c.dir && !all[c.path] {
					t.Errorf("%q: not walked with NoGitignore", c.path)
				}
			}
		})
	}
}

// TestGitignoreMatchesGit checks the table itself against git, so that it
// states git's behaviour rather than the scanner's. Every case goes in a
// directory of its own in one repository: a nested .gitignore follows the
// same rules as the root's, relative to its directory.
func TestGitignoreMatchesGit(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	var in bytes.Buffer
	cases := append(slices.Clone(ignoreCases), ignoreEdgeCases...)
	for i, tc := range cases {
		dir := "case" + strconv.Itoa(i)
		materialize(t, filepath.Join(root, dir), tc)
		for _, c := range tc.checks {
			in.WriteString(dir + "/" + c.path + "\x00")
		}
	}
	env := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+root, "XDG_CONFIG_HOME="+root)
	init := exec.Command(gitBin, "-C", root, "init", "-q", ".")
	init.Env = env
	if out, err := init.CombinedOutput(); err != nil {
		t.Skipf("git init: %v: %s", err, out)
	}
	cmd := exec.Command(gitBin, "-C", root, "check-ignore", "--no-index", "--stdin", "-z")
	cmd.Stdin = &in
	cmd.Env = env
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) { // 1: nothing ignored
		t.Fatalf("git check-ignore: %v", err)
	}
	ignored := map[string]bool{}
	for _, p := range strings.Split(string(out), "\x00") {
		ignored[p] = true
	}
	for i, tc := range cases {
		for _, c := range tc.checks {
			if p := "case" + strconv.Itoa(i) + "/" + c.path; ignored[p] != c.ignored {
				t.Errorf("%s: git says %q ignored = %v; the table says %v", tc.name, c.path, ignored[p], c.ignored)
			}
		}
	}
}

// ignoreEdgeCases are syntax and semantics git has that are easy to get
// wrong: "!logs" re-includes the directory logs, not the files under it
// that another pattern ignores; a UTF-8 byte order mark; an escaped space
// after a space; POSIX character classes; a ] first in a class.
var ignoreEdgeCases = []ignoreCase{
	{
		name:  "negated directory name does not re-include its files",
		files: map[string]string{"": "*.log\n!logs\n"},
		checks: []ignoreCheck{
			ignDir("logs", false), ignFile("logs/a.log", true), ignFile("logs/a.txt", false), ignFile("x.log", true),
		},
	},
	{
		name:   "byte order mark",
		files:  map[string]string{"": "\ufeffsecret.env\nother\n"},
		checks: []ignoreCheck{ignFile("secret.env", true), ignFile("other", true)},
	},
	{
		name:   "escaped space after a space",
		files:  map[string]string{"": "foo \\ \n"},
		checks: []ignoreCheck{ignFile("foo  ", true), ignFile("foo ", false), ignFile("foo", false)},
	},
	{
		name:   "posix character class",
		files:  map[string]string{"": "[[:digit:]]x\n"},
		checks: []ignoreCheck{ignFile("1x", true), ignFile("ax", false)},
	},
	{
		name:   "closing bracket first in a class",
		files:  map[string]string{"": "[]]y\n"},
		checks: []ignoreCheck{ignFile("]y", true), ignFile("y", false)},
	},
}

func TestGitignoreEdgeSyntax(t *testing.T) {
	for _, tc := range ignoreEdgeCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range tc.checks {
				if got := effectivelyIgnored(tc.files, c.path, c.dir); got != c.ignored {
					t.Errorf("%q (dir=%v): ignored = %v, want %v", c.path, c.dir, got, c.ignored)
				}
			}
		})
	}
}

func TestGitignoreExcludeOption(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"app/main.js", "app/gen/x.js", "scripts/seed.py", "docs/a/b.js", "keep/main.js", "x/app/main.js"} {
		mustWrite(t, filepath.Join(root, filepath.FromSlash(p)), "x\n")
	}
	got := walkedFiles(t, root, Options{Exclude: []string{"/app/gen", "scripts/", "*.py", "docs/**", "/app/main.js"}})
	want := []string{"keep/main.js", "x/app/main.js"}
	if keys := sortedKeys(got); !slices.Equal(keys, want) {
		t.Errorf("walked %v, want %v", keys, want)
	}
}

// walkedFiles returns the files walkRoot visits under root, relative to it.
func walkedFiles(t *testing.T, root string, opts Options) map[string]bool {
	t.Helper()
	var ws walkStats
	out := map[string]bool{}
	err := walkRoot(context.Background(), root, &opts, &ws, func(wf walkFile) error {
		rel := strings.TrimPrefix(wf.rel, filepath.ToSlash(filepath.Clean(root))+"/")
		if rel != ".gitignore" && !strings.HasSuffix(rel, "/.gitignore") {
			out[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mustWrite(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
