package discover

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The hostile tests feed the scanner trees it must survive: files too big
// to read, minified and binary files, deep nesting, invalid UTF-8, odd file
// names, many files, deep brackets and huge literals. They check
// correctness only; nothing here measures time except to turn a hang into
// a failure.

// writeRepeated writes size bytes of c to p without holding them in memory.
func writeRepeated(t *testing.T, p string, c byte, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{c}, 1<<20)
	for size > 0 {
		n := min(size, len(chunk))
		if _, err := fh.Write(chunk[:n]); err != nil {
			t.Fatal(err)
		}
		size -= n
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
}

// findingsOf returns the findings of vendor (any kind when kind is "").
func findingsOf(r *Report, vendor string, kind Kind) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Vendor == vendor && (kind == "" || f.Kind == kind) {
			out = append(out, f)
		}
	}
	return out
}

func hasCategory(f Finding, key string) bool {
	return slices.ContainsFunc(f.Categories, func(c Category) bool { return c.Key == key })
}

func TestHostileHugeFiles(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"src/app.js": jsEndpoint})
	writeRepeated(t, filepath.Join(root, "src", "huge.js"), 'a', 50<<20)
	skippedWant := 1
	// A sparse file far bigger than memory: its size alone rules it out.
	if fh, err := os.Create(filepath.Join(root, "src", "sparse.py")); err == nil {
		if fh.Truncate(8<<30) == nil {
			skippedWant++
		} else {
			os.Remove(fh.Name())
		}
		fh.Close()
	}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := scanDir(t, Options{}, root)
	runtime.ReadMemStats(&after)

	if got, want := foundIn(r, root), []string{"src/app.js"}; !slices.Equal(got, want) {
		t.Errorf("findings in %v, want %v", got, want)
	}
	if r.Stats.Skipped != skippedWant || r.Stats.Files != 1 {
		t.Errorf("Stats = %+v, want %d skipped (too large) and 1 file", r.Stats, skippedWant)
	}
	if r.Stats.Bytes != int64(len(jsEndpoint)) {
		t.Errorf("Stats.Bytes = %d, want %d: skipped files count no bytes", r.Stats.Bytes, len(jsEndpoint))
	}
	if after.HeapAlloc > 100<<20 {
		t.Errorf("HeapAlloc after the scan = %d MB, want < 100 MB", after.HeapAlloc>>20)
	}
	// The 50 MB file was never read: the whole scan allocated far less.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 40<<20 {
		t.Errorf("the scan allocated %d MB: it read the file it should have skipped", alloc>>20)
	}

	// MaxFileSize is a limit, not a default only: a smaller one skips more.
	r = scanDir(t, Options{MaxFileSize: int64(len(jsEndpoint)) - 1}, root)
	if len(r.Findings) != 0 || r.Stats.Files != 0 {
		t.Errorf("MaxFileSize below every file: %d findings, %d files", len(r.Findings), r.Stats.Files)
	}
}

func TestHostileMinifiedLine(t *testing.T) {
	root := t.TempDir()
	var b strings.Builder
	for b.Len() < 500<<10 {
		b.WriteString("function f(a){return a+1};var x={a:[1,2,3]};")
	}
	b.WriteString(`fetch("https://api.mixpanel.com/track",{method:"POST"});`)
	for b.Len() < 1<<20 {
		b.WriteString("function g(a){return a*2};var y={b:[4,5,6]};")
	}
	mustWrite(t, filepath.Join(root, "static", "app.js"), b.String())
	writeTree(t, root, map[string]string{"src/app.js": jsEndpoint})

	r := scanDir(t, Options{}, root)
	if got, want := foundIn(r, root), []string{"src/app.js"}; !slices.Equal(got, want) {
		t.Errorf("default: findings in %v, want %v (a 1 MB line is minified)", got, want)
	}
	if r.Stats.Skipped != 1 {
		t.Errorf("default: Stats.Skipped = %d, want 1", r.Stats.Skipped)
	}

	r = scanDir(t, Options{IncludeVendored: true}, root)
	if got, want := foundIn(r, root), []string{"src/app.js", "static/app.js"}; !slices.Equal(got, want) {
		t.Errorf("IncludeVendored: findings in %v, want %v", got, want)
	}
	for _, f := range r.Findings {
		if n := utf8.RuneCountInString(f.Evidence.Snippet); n > 120 {
			t.Errorf("%s: snippet of %d runes, want ≤ 120", f.Evidence.Ref(), n)
		}
		if f.Evidence.Line != 1 && strings.HasSuffix(f.Evidence.File, "static/app.js") {
			t.Errorf("%s: want line 1", f.Evidence.Ref())
		}
	}
}

func TestHostileBinaryFiles(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"src/app.js":      jsEndpoint,
		"src/blob.js":     "\x00\x01\x02" + jsEndpoint,
		"src/packed.py":   pyEndpoint + "\x00",
		"src/obj.go":      goEndpoint + strings.Repeat("\x00\xff", 100),
		"assets/logo.png": "\x89PNG\r\n\x1a\n\x00\x00" + jsEndpoint,
		// A NUL after the first 8 KB does not make a file binary.
		"src/late.js": jsEndpoint + strings.Repeat("// padding\n", 1000) + "\x00",
	})
	r := scanDir(t, Options{IncludeVendored: true}, root)
	if got, want := foundIn(r, root), []string{"src/app.js", "src/late.js"}; !slices.Equal(got, want) {
		t.Errorf("findings in %v, want %v", got, want)
	}
	if r.Stats.Skipped != 4 || r.Stats.Files != 2 {
		t.Errorf("Stats = %+v, want 4 skipped, 2 files", r.Stats)
	}
}

// deepTree writes a file at every depth from lo to hi: root/d1/…/dN/fN.js.
func deepTree(t *testing.T, root string, lo, hi int) {
	t.Helper()
	dir := root
	for n := 1; n <= hi; n++ {
		dir = filepath.Join(dir, "d"+strconv.Itoa(n))
		if n >= lo {
			mustWrite(t, filepath.Join(dir, "f"+strconv.Itoa(n)+".js"),
				"import mixpanel from 'mixpanel-browser'\nmixpanel.track('deep', { email: user.email })\n")
		}
	}
}

func TestHostileDeepNesting(t *testing.T) {
	// 60 levels: well inside maxDepth, everything is read.
	root := t.TempDir()
	deepTree(t, root, 60, 60)
	r := scanDir(t, Options{}, root)
	if fs := findingsOf(r, "mixpanel", KindDataSend); len(fs) != 1 || !hasCategory(fs[0], "user.contact.email") {
		t.Errorf("60 levels: data-send findings %+v, want one with user.contact.email", fs)
	}

	// 70 levels: directories deeper than maxDepth separators are left out
	// (and counted), without a crash.
	root = t.TempDir()
	deepTree(t, root, 58, 70)
	r = scanDir(t, Options{}, root)
	var depths []int
	for _, f := range findingsOf(r, "mixpanel", KindDataSend) {
		depths = append(depths, strings.Count(strings.TrimPrefix(f.Evidence.File, filepath.ToSlash(root)+"/"), "/"))
	}
	slices.Sort(depths)
	want := []int{}
	for n := 58; n <= maxDepth; n++ {
		want = append(want, n)
	}
	if !slices.Equal(depths, want) {
		t.Errorf("70 levels: data-send at depths %v, want %v", depths, want)
	}
	if r.Stats.Skipped != 1 {
		t.Errorf("70 levels: Stats.Skipped = %d, want 1 (the first directory too deep)", r.Stats.Skipped)
	}
}

func TestHostileInvalidUTF8(t *testing.T) {
	root := t.TempDir()
	src := "import mixpanel from 'mixpanel-browser'\n" +
		"const title = \"caf\xe9 \xff\xfe\"\n" +
		"export function signup(u) {\n" +
		"  mixpanel.track(\"x\xc3\x28\", {email: u.email}) // \xed\xa0\x80 \xf0\x28\x8c\xbc\n" +
		"}\n"
	mustWrite(t, filepath.Join(root, "src", "signup.js"), src)
	r := scanDir(t, Options{}, root)
	sends := findingsOf(r, "mixpanel", KindDataSend)
	if len(sends) != 1 {
		t.Fatalf("data-send findings %+v, want 1", sends)
	}
	f := sends[0]
	if !hasCategory(f, "user.contact.email") {
		t.Errorf("categories %+v, want user.contact.email", f.Categories)
	}
	if f.Evidence.Line != 4 {
		t.Errorf("line %d, want 4", f.Evidence.Line)
	}
	for _, f := range r.Findings {
		if !utf8.ValidString(f.Evidence.Snippet) {
			t.Errorf("%s: snippet %q is not valid UTF-8", f.Evidence.Ref(), f.Evidence.Snippet)
		}
		for _, c := range f.Categories {
			if !utf8.ValidString(c.Element) {
				t.Errorf("%s: element %q is not valid UTF-8", f.Evidence.Ref(), c.Element)
			}
		}
	}
	if !strings.Contains(f.Evidence.Snippet, "mixpanel.track(") {
		t.Errorf("snippet %q, want the call", f.Evidence.Snippet)
	}
}

func TestHostileFileNames(t *testing.T) {
	root := t.TempDir()
	names := []string{
		"my app/ünïcødé 文件 (copy).js",
		"src/-rf.js",
		"src/it's \"quoted\".js",
		"src/#hash;semi&amp.js",
		"src/emoji 🚀/x.js",
		"src/  leading and trailing  .js",
	}
	files := map[string]string{}
	for _, n := range names {
		files[n] = jsEndpoint
	}
	writeTree(t, root, files)
	r := scanDir(t, Options{}, root)
	want := slices.Clone(names)
	slices.Sort(want)
	if got := foundIn(r, root); !slices.Equal(got, want) {
		t.Errorf("findings in %q, want %q", got, want)
	}
}

func TestHostileManyFiles(t *testing.T) {
	root := t.TempDir()
	const n, perDir = 10000, 100
	// One file a directory is written, the others are hard links to it:
	// creating files is slow on some file systems and would be most of this
	// test's time. To the walk, every link is a file of its own.
	for d := range n / perDir {
		dir := filepath.Join(root, "pkg"+strconv.Itoa(d))
		first := filepath.Join(dir, "f"+strconv.Itoa(d*perDir)+".js")
		mustWrite(t, first, jsEndpoint)
		for i := d*perDir + 1; i < (d+1)*perDir; i++ {
			p := filepath.Join(dir, "f"+strconv.Itoa(i)+".js")
			if os.Link(first, p) != nil {
				mustWrite(t, p, jsEndpoint)
			}
		}
	}
	r := scanDir(t, Options{}, root)
	if r.Stats.Files != n || r.Stats.Skipped != 0 {
		t.Errorf("Stats = %+v, want %d files, none skipped", r.Stats, n)
	}
	if r.Stats.Bytes != int64(n*len(jsEndpoint)) {
		t.Errorf("Stats.Bytes = %d, want %d", r.Stats.Bytes, n*len(jsEndpoint))
	}
	if eps := findingsOf(r, "mixpanel", KindEndpoint); len(eps) != n {
		t.Errorf("%d endpoint findings, want %d (one a file)", len(eps), n)
	}
	// Sorted by vendor, file, line: no two findings out of order.
	if !slices.IsSortedFunc(r.Findings, func(a, b Finding) int {
		return strings.Compare(a.Vendor+"\x00"+a.Evidence.File, b.Vendor+"\x00"+b.Evidence.File)
	}) {
		t.Error("findings are not sorted")
	}
}

func TestHostileDeepBrackets(t *testing.T) {
	const n = 100000
	root := t.TempDir()
	open, closed := strings.Repeat("(", n), strings.Repeat(")", n)
	files := map[string]string{
		// Nested inside a vendor call: its arguments are read only so far.
		"src/parens.js": "import mixpanel from 'mixpanel-browser'\n" +
			"mixpanel.track('x', { email: user.email, deep: " + open + "1" + closed + " })\n",
		"src/brackets.js": "const a = " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n" +
			"const o = " + strings.Repeat("{a:", n) + "1" + strings.Repeat("}", n) + "\n",
		// Never closed.
		"src/unclosed.js": "f" + open + "\n" + strings.Repeat("{", n) + "\n" + strings.Repeat("`${", n) + "\n",
		"src/closers.js":  closed + strings.Repeat("]}", n) + "\n",
		"src/deep.go": "package deep\n\nimport \"github.com/getsentry/sentry-go\"\n\n" +
			"var u = sentry.User{Email: e, Data: " + strings.Repeat("map[string]any{\"a\": ", n/10) + "1" + strings.Repeat("}", n/10) + "}\n",
		"src/deep.py": "import sentry_sdk\nsentry_sdk.set_user(" + open + "{'email': e}" + closed + ")\n",
	}
	writeTree(t, root, files)
	var r *Report
	runWithin(t, 60*time.Second, func() { r = scanDir(t, Options{IncludeVendored: true}, root) })
	if t.Failed() {
		return
	}
	if fs := findingsOf(r, "mixpanel", KindDataSend); len(fs) != 1 || !hasCategory(fs[0], "user.contact.email") {
		t.Errorf("mixpanel data-send %+v, want one with user.contact.email", fs)
	}
	if fs := findingsOf(r, "sentry", KindDataSend); len(fs) == 0 {
		t.Errorf("no sentry data-send in deep.go / deep.py")
	}
	for _, f := range r.Findings {
		if utf8.RuneCountInString(f.Evidence.Snippet) > 120 {
			t.Errorf("%s: snippet too long", f.Evidence.Ref())
		}
	}
}

func TestHostileBigStringLiteral(t *testing.T) {
	root := t.TempDir()
	blob := strings.Repeat("a", 5<<20)
	src := "import sentry_sdk\n\nsentry_sdk.init(dsn=DSN, send_default_pii=True)\n\nBLOB = \"" + blob + "\"\n" +
		"TEMPLATE = '''\n" + strings.Repeat("line with 'quotes' and \"more\" # not a comment\n", 1000) + "'''\n" +
		"sentry_sdk.set_user({'email': user.email})\n"
	mustWrite(t, filepath.Join(root, "app", "settings.py"), src)

	// Over the default limit: skipped.
	r := scanDir(t, Options{}, root)
	if len(r.Findings) != 0 || r.Stats.Skipped != 1 {
		t.Errorf("default limit: %d findings, Stats %+v; want none, 1 skipped", len(r.Findings), r.Stats)
	}

	// Under a raised limit: read, and the code around the literal found.
	r = scanDir(t, Options{MaxFileSize: 8 << 20}, root)
	inits := findingsOf(r, "sentry", KindSDKInit)
	if !slices.ContainsFunc(inits, func(f Finding) bool {
		return f.Evidence.Line == 3 && hasCategory(f, "user.device.ip_address")
	}) {
		t.Errorf("sentry sdk-init %+v, want line 3 with user.device.ip_address", inits)
	}
	sends := findingsOf(r, "sentry", KindDataSend)
	if len(sends) != 1 || !hasCategory(sends[0], "user.contact.email") || sends[0].Evidence.Line != 1008 {
		t.Errorf("sentry data-send %+v, want line 1008 with user.contact.email", sends)
	}
}

// TestHostileSpecialFiles: named pipes, devices and unreadable files in the
// tree are skipped without blocking.
func TestHostileSpecialFiles(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"src/app.js": jsEndpoint, "src/locked.js": jsEndpoint})
	skipped := 0
	if mkfifo, err := exec.LookPath("mkfifo"); err == nil {
		if exec.Command(mkfifo, filepath.Join(root, "src", "pipe.js")).Run() == nil {
			skipped++
			symlink(t, "pipe.js", filepath.Join(root, "src", "pipe-link.js"))
			skipped++
		}
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		symlink(t, "/dev/zero", filepath.Join(root, "src", "zero.js"))
		skipped++
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(filepath.Join(root, "src", "locked.js"), 0); err == nil {
			skipped++
		}
	}
	var r *Report
	runWithin(t, 20*time.Second, func() { r = scanDir(t, Options{}, root) })
	if t.Failed() {
		return
	}
	want := []string{"src/app.js"}
	if os.Geteuid() == 0 {
		want = append(want, "src/locked.js")
	}
	if got := foundIn(r, root); !slices.Equal(got, want) {
		t.Errorf("findings in %v, want %v", got, want)
	}
	if r.Stats.Skipped != skipped {
		t.Errorf("Stats.Skipped = %d, want %d", r.Stats.Skipped, skipped)
	}
}

// TestHostileGitignore: a .gitignore with a very long line still applies
// the lines after it; one over the 1 MB limit is not read at all.
func TestHostileGitignore(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		".gitignore": "a.js\n" + strings.Repeat("x", 100<<10) + "\nb.js\n" + strings.Repeat("**/", 1000) + "c.js\n",
		"a.js":       jsEndpoint, "b.js": jsEndpoint, "c.js": jsEndpoint, "d.js": jsEndpoint,
	})
	r := scanDir(t, Options{}, root)
	if got, want := foundIn(r, root), []string{"d.js"}; !slices.Equal(got, want) {
		t.Errorf("findings in %v, want %v", got, want)
	}
}

// TestHostileManyCalls: files full of SDK calls, each under the default
// size limit. Measured on a 2-core machine before the fixes, and after:
//
//   - identifier arguments: literalFor looked for the identifier's literal
//     from the top of the file for every call (two regexps, compiled per
//     call): 8,000 calls in 208 KB took 97 s; now each identifier's
//     assignments are found once per file: 0.1 s.
//   - one long line: snippet() converted the whole line for every finding
//     on it: 8,000 calls on a 1.6 MB line took 52 s; now evidence is cut
//     to 512 bytes around the call first: 0.5 s.
//   - nested calls: every call's arguments are read up to 4 KB, so 8,000
//     nested calls read 32 MB: 7.9 s; now a file's calls read at most eight
//     times its size (at least 1 MB) at full length, then 256 bytes each:
//     0.8 s.
func TestHostileManyCalls(t *testing.T) {
	const n = 8000
	var lines, oneLine, nested strings.Builder
	lines.WriteString("import mixpanel from 'mixpanel-browser'\nconst evt = {email: u.email}\n")
	oneLine.WriteString("import mixpanel from 'mixpanel-browser';")
	nested.WriteString("import mixpanel from 'mixpanel-browser'\n")
	for range n {
		lines.WriteString("mixpanel.track(\"e\", evt);\n")
		oneLine.WriteString("mixpanel.track(\"e\",{email:u.email});" + strings.Repeat("var a=1;", 20)) // 1.6 MB in all
		nested.WriteString("mixpanel.track(\n")
	}
	nested.WriteString(strings.Repeat(")", n))
	for _, tc := range []struct{ name, src string }{
		{"identifier arguments", lines.String()},
		{"one long line", oneLine.String()},
		{"nested calls", nested.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			mustWrite(t, filepath.Join(root, "calls.js"), tc.src)
			runWithin(t, 60*time.Second, func() {
				r := scanDir(t, Options{IncludeVendored: true}, root)
				if len(findingsOf(r, "mixpanel", KindDataSend)) == 0 {
					t.Error("no data-send")
				}
			})
		})
	}
}
