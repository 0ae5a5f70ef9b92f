package web_test

// Browser tests: the web UI in a real headless Chromium (Debian's chromium
// package), driven over the DevTools protocol with chromedp, against the
// real server of newEnv on 127.0.0.1 and a real database.
//
// The browser: $WEAKLINK_CHROMIUM, else /usr/bin/chromium, else chromium
// or chromium-browser on $PATH. Without one the tests skip, with a
// message, except under CI ($CI set), where they fail: CI must not pass
// by skipping them (.ci/run installs the package).
//
// Each test starts its own browser (about half a second) with a fresh
// profile, so no cookie leaks from one test to the next; every step has
// browserStep, the whole test browserTest.
//
// Screenshots: every test saves full-page PNGs of its steps, numbered
// (01-login.png, 02-vendors.png, …), to $WEAKLINK_ARTIFACTS/<test name>/,
// else to a temporary directory; a failed step saves FAIL-<step>.png.
//
// Every page must load without a JavaScript exception or a console error
// (which is how Chromium reports a Content-Security-Policy violation: an
// inline style or script, an injected handler); a test fails on any.
//
// The session cookie is __Host- and Secure, over plain HTTP: Chromium
// treats http://127.0.0.1 as a secure context and keeps the cookie
// (TestBrowserVendors checks it), so the tests need no TLS.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

const (
	browserStep = 10 * time.Second // one step: a navigation, a form, a check
	browserTest = 60 * time.Second // a whole test, browser start included
)

// chromium finds the browser, or skips the test (fails it under CI).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("WEAKLINK_CHROMIUM"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("WEAKLINK_CHROMIUM=%s: %v", p, err)
		}
		return path
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const how = "install Debian's chromium package (apt-get install chromium) or set WEAKLINK_CHROMIUM to a Chromium or Chrome binary"
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium for the browser tests, and CI must run them: " + how)
	}
	t.Skip("browser tests skipped: no Chromium found; " + how)
	return ""
}

// chrome is one headless Chromium with one tab, for one test.
type chrome struct {
	t    *testing.T
	base string          // the server's URL
	ctx  context.Context // the tab; it ends with the test's deadline
	dir  string          // where the screenshots go
	n    int             // screenshots taken

	mu       sync.Mutex
	problems []string // exceptions and console errors of the pages
	dialogs  []string // confirm() and alert() messages, all accepted
}

func newChrome(t *testing.T, e *env) *chrome {
	t.Helper()
	return newChromeAt(t, e.ts.URL)
}

// newChromeAt is newChrome for a server at base (http://127.0.0.1:PORT).
func newChromeAt(t *testing.T, base string) *chrome {
	t.Helper()
	exe := chromium(t)
	b := &chrome{t: t, base: base, dir: artefactDir(t)}
	profile := t.TempDir() // removed after the browser stops (cleanups run in reverse)
	out := &syncBuffer{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Containers, and root, have no user namespaces for the sandbox;
		// the browser only visits the test's own servers.
		chromedp.NoSandbox,
		// Nothing but the test's servers: without these Chromium waits on
		// the network (updates, sync, QUIC) of a machine with none.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(out),
	}
	deadline, cancelDeadline := context.WithTimeout(context.Background(), browserTest)
	alloc, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelDeadline() })
	start := time.Now()
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting %s: %v\n%s", exe, err, out.String())
	}
	t.Logf("Chromium started in %v; screenshots in %s", time.Since(start).Round(time.Millisecond), b.dir)
	b.ctx = tab

	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// A 4xx page is a console error too; the tests check statuses.
			if (m.Type == chromedp.ConsoleError || m.IsException()) && !strings.HasPrefix(m.Text, "Failed to load resource: the server responded with a status of 4") {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s: %s", m.URL, m.Text))
				b.mu.Unlock()
			}
		}
	}()
	dialogs := chromedp.Events(tab, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			_, _ = chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.problems) > 0 {
			t.Errorf("the pages logged errors:\n%s", strings.Join(b.problems, "\n"))
		}
	})
	return b
}

// artefactDir is where a test's screenshots go: $WEAKLINK_ARTIFACTS/<test
// name>, emptied of an earlier run's, else a temporary directory.
func artefactDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("WEAKLINK_ARTIFACTS")
	if root == "" {
		return t.TempDir()
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '/' {
			return r
		}
		return '_'
	}, t.Name())
	dir, err := filepath.Abs(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	return dir
}

// cdRun runs one action of a step, within browserStep; on failure it saves
// a screenshot and ends the test.
func cdRun[T any](b *chrome, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(step, err)
	}
	return v
}

// do runs the actions of one step, within browserStep.
func (b *chrome) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	cdRun(b, step, chromedp.Steps(actions...))
}

func (b *chrome) fail(step string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	where, _ := chromedp.Run(ctx, chromedp.Location())
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
		_ = os.WriteFile(filepath.Join(b.dir, "FAIL-"+shotSlug(step)+".png"), png, 0o644)
	}
	b.t.Fatalf("%s (at %s): %v", step, where, err)
}

func shotSlug(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s), "-")
}

// asked lists the confirm() and alert() messages so far.
func (b *chrome) asked() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.dialogs)
}

// shot saves a full-page screenshot as NN-name.png.
func (b *chrome) shot(name string) {
	b.t.Helper()
	png := cdRun(b, "screenshot "+name, chromedp.FullScreenshot(100))
	b.n++
	if err := os.WriteFile(filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.n, name)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// cdJS evaluates an expression in the page.
func cdJS[T any](b *chrome, step, expr string) T {
	b.t.Helper()
	return cdRun(b, step, chromedp.Evaluate[T](expr))
}

// jsQuote quotes a string for JavaScript.
func jsQuote(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

func (b *chrome) url(path string) string { return b.base + path }

// open loads a page of the server and waits for it.
func (b *chrome) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.url(path)))
}

// jsWait polls a JavaScript condition until it holds (errors while a
// page changes count as "not yet").
func jsWait(cond string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			ok, err := chromedp.Evaluate[bool](cond)(ctx, t)
			if err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w", cond, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// follow runs actions that leave the page (a click, a key), and waits
// until another page has loaded.
func (b *chrome) follow(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.do(step, slices.Concat(
		[]chromedp.Action[chromedp.Void]{chromedp.Evaluate[chromedp.Void](`window.__weaklinkOld = true`)},
		actions,
		[]chromedp.Action[chromedp.Void]{jsWait(`window.__weaklinkOld !== true && document.readyState === "complete"`)},
	)...)
}

// at is the path and query of the page shown.
func (b *chrome) at() string {
	b.t.Helper()
	return cdJS[string](b, "location", `location.pathname + location.search`)
}

func (b *chrome) wantAt(want string) {
	b.t.Helper()
	if got := b.at(); got != want {
		b.fail("location", fmt.Errorf("at %s, want %s", got, want))
	}
}

// text is the trimmed text of the first element sel matches ("" if none).
func (b *chrome) text(sel string) string {
	b.t.Helper()
	return cdJS[string](b, "text of "+sel, `(() => { const el = document.querySelector(`+jsQuote(sel)+`); return el ? el.textContent.trim().replace(/\s+/g, " ") : "" })()`)
}

// status is the HTTP status of the page shown.
func (b *chrome) status() int {
	b.t.Helper()
	return cdJS[int](b, "status", `performance.getEntriesByType("navigation")[0].responseStatus`)
}

// focused describes the focused element: tag#id.class "text".
func (b *chrome) focused() string {
	b.t.Helper()
	return cdJS[string](b, "focus", `(() => { const a = document.activeElement; if (!a) return ""; return a.tagName.toLowerCase() + (a.id ? "#" + a.id : "") + (a.className && typeof a.className === "string" ? "." + a.className.split(" ").join(".") : "") + " " + JSON.stringify((a.textContent || "").trim().slice(0, 40)) })()`)
}

// cookie is the session cookie the browser holds for the server, if any.
func (b *chrome) cookie() *network.Cookie {
	b.t.Helper()
	res := cdRun(b, "cookies", func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
		return chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.url("/")}})
	})
	for _, c := range res.Cookies {
		if c.Name == web.CookieName {
			return c
		}
	}
	return nil
}

// login logs in through the form with the keyboard: the user name, Tab,
// the password, Enter. The browser must be on the login form.
func (b *chrome) login(user, password string) {
	b.t.Helper()
	b.do("focus the user name", chromedp.WaitVisible(chromedp.CSS("#username")), chromedp.Focus(chromedp.CSS("#username")))
	b.do("type the user name", chromedp.KeyEvent(user), chromedp.KeyEvent(kb.Tab))
	if f := b.focused(); !strings.HasPrefix(f, "input#password") {
		b.fail("Tab from the user name", fmt.Errorf("focus on %s, want the password", f))
	}
	b.do("type the password", chromedp.KeyEvent(password))
	b.follow("press Enter", chromedp.KeyEvent(kb.Enter))
}

// TestBrowserVendors: log in with the keyboard, filter the vendor list,
// open Mixpanel from it with its details, flows and data-flow diagram,
// and log out.
func TestBrowserVendors(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		e.passwordUser("ada", auth.RoleViewer, password)
		b := newChrome(t, e)

		// (1) An anonymous visitor goes to the form, and back after it.
		b.open("/vendors")
		b.wantAt(loginRedirect("/vendors"))
		if got := b.text("h1"); got != "Log in to weaklink" {
			t.Errorf("login heading %q", got)
		}
		b.shot("login")
		b.login("ada", password)
		b.wantAt("/vendors")
		if got := b.text("header .who"); !strings.HasPrefix(got, "ada") {
			t.Errorf("the header shows %q, want ada", got)
		}
		ck := b.cookie()
		if ck == nil {
			b.fail("session cookie", errors.New("Chromium kept no session cookie over http://127.0.0.1"))
		}
		if !ck.Secure || !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteLax || ck.Path != "/" || !strings.HasPrefix(ck.Value, auth.SessionPrefix) {
			t.Errorf("session cookie: %+v", *ck)
		}
		e.secrets = append(e.secrets, ck.Value)
		total, err := e.store.CountVendors(ctx, store.VendorFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := b.text("p.count"), fmt.Sprintf("Vendors 1–%d of %d", total, total); got != want {
			t.Errorf("count %q, want %q", got, want)
		}
		b.shot("vendors")

		// (2) Filter: choose a category and apply; then type a search and
		// press Enter. The rows are the store's.
		rows := func(step string, f store.VendorFilter) {
			t.Helper()
			want, err := e.store.ListVendors(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 || int64(len(want)) == total {
				t.Fatalf("%s: the filter matches %d of %d vendors", step, len(want), total)
			}
			u, _ := url.Parse(b.at())
			if u.Path != "/vendors" || u.Query().Get("q") != f.Text || u.Query().Get("category") != f.Category {
				t.Errorf("%s: at %s", step, u)
			}
			got := cdJS[[]string](b, "rows", `Array.from(document.querySelectorAll("table.vendors tbody th[scope=row] a")).map(a => a.getAttribute("href"))`)
			var wantRows []string
			for _, v := range want {
				wantRows = append(wantRows, "/vendors/"+v.ID)
			}
			if !slices.Equal(got, wantRows) {
				t.Errorf("%s: rows %v, want %v", step, got, wantRows)
			}
			if got, want := b.text("p.count"), fmt.Sprintf("Vendors 1–%d of %d", len(want), len(want)); got != want {
				t.Errorf("%s: count %q, want %q", step, got, want)
			}
			if got := cdJS[string](b, "the form", `document.querySelector("#q").value + "|" + document.querySelector("#category").value`); got != f.Text+"|"+f.Category {
				t.Errorf("%s: the form holds %q", step, got)
			}
		}
		b.do("choose a category", chromedp.SetValue(chromedp.CSS("#category"), "analytics"))
		b.follow("apply the filter", chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
		rows("category", store.VendorFilter{Category: "analytics"})
		b.shot("vendors-category")
		b.do("type a search", chromedp.Focus(chromedp.CSS("#q")), chromedp.KeyEvent("mix"))
		b.follow("press Enter", chromedp.KeyEvent(kb.Enter))
		rows("category and search", store.VendorFilter{Category: "analytics", Text: "mix"})
		b.shot("vendors-filtered")

		// (3) Open Mixpanel from the list.
		d, err := e.svc.VendorDetail(ctx, "mixpanel")
		if err != nil {
			t.Fatal(err)
		}
		b.follow("open mixpanel", chromedp.Click(chromedp.CSS(`table.vendors a[href="/vendors/mixpanel"]`)))
		b.wantAt("/vendors/mixpanel")
		if got := b.text("main h1"); got != d.Vendor.Name {
			t.Errorf("heading %q, want %q", got, d.Vendor.Name)
		}
		details := b.text("dl.details")
		for _, s := range []string{"mixpanel", d.Vendor.Category, d.Vendor.Status, d.Vendor.Owner} {
			if !strings.Contains(details, s) {
				t.Errorf("the details %q lack %q", details, s)
			}
		}
		flows := cdJS[[]string](b, "flows", `(() => {
			const t = Array.from(document.querySelectorAll("table")).find(t => (t.caption?.textContent || "").startsWith("Flows from systems"));
			return t ? Array.from(t.tBodies[0].rows).map(r => r.cells[0].textContent.trim()) : [];
		})()`)
		var wantFlows []string
		for _, f := range d.Flows {
			wantFlows = append(wantFlows, f.System+" → mixpanel")
		}
		slices.Sort(flows)
		slices.Sort(wantFlows)
		if len(wantFlows) == 0 || !slices.Equal(flows, wantFlows) {
			t.Errorf("the flows table lists %q, want %q", flows, wantFlows)
		}
		// The data-flow diagram: inline SVG, an image with a name.
		type svgInfo struct {
			Present bool    `json:"present"`
			Role    string  `json:"role"`
			Title   string  `json:"title"`
			Width   float64 `json:"width"`
			Height  float64 `json:"height"`
		}
		svg := cdJS[svgInfo](b, "diagram", `(() => {
			const s = document.querySelector("svg#flow-diagram");
			if (!s) return {present: false};
			const t = s.querySelector(":scope > title"), r = s.getBoundingClientRect();
			return {present: true, role: s.getAttribute("role") || "", title: t ? t.textContent.trim() : "", width: r.width, height: r.height};
		})()`)
		switch {
		case !svg.Present:
			t.Error(`the vendor page has no data-flow diagram (svg#flow-diagram)`)
		case svg.Role != "img" || svg.Title == "":
			t.Errorf(`the diagram: role %q, title %q; want role="img" and a <title>`, svg.Role, svg.Title)
		case svg.Width < 100 || svg.Height < 50:
			t.Errorf("the diagram is drawn %vx%v", svg.Width, svg.Height)
		}
		b.shot("vendor-mixpanel")

		// The diagram's subprocessor boxes are links.
		b.follow("open gcp from the diagram", chromedp.Click(chromedp.CSS(`svg#flow-diagram a[href="/vendors/gcp"] rect`)))
		b.wantAt("/vendors/gcp")
		b.shot("vendor-gcp-from-diagram")

		// The dashboard, from the menu: its charts are images with names.
		b.follow("open the dashboard", chromedp.Click(chromedp.CSS(`nav a[href="/dashboard"]`)))
		b.wantAt("/dashboard")
		if got := cdJS[string](b, "chart name", `document.querySelector("svg#vendors-chart")?.getAttribute("role") + ":" + (document.querySelector("svg#vendors-chart > title")?.textContent || "")`); got != "img:Vendors by category and lifecycle status" {
			t.Errorf("the dashboard's vendor chart: %q", got)
		}
		b.shot("dashboard")

		// Who has users' email addresses? Mixpanel directly, gcp through it.
		b.open("/data?category=user.contact.email")
		if got := b.text("main"); !strings.Contains(got, "mixpanel") || !strings.Contains(got, "gcp") {
			t.Errorf("who-has user.contact.email: %.500s", got)
		}
		b.shot("who-has-email")

		// On a phone (375 px), the pages do not scroll sideways.
		b.do("phone width", chromedp.EmulateViewport(375, 812))
		for _, p := range []string{"/dashboard", "/vendors", "/vendors/mixpanel"} {
			b.open(p)
			if w := cdJS[float64](b, "page width", `document.documentElement.scrollWidth`); w > 376 {
				t.Errorf("%s at 375 px is %v px wide", p, w)
			}
		}
		b.shot("vendor-mixpanel-phone")
		b.do("laptop width", chromedp.EmulateViewport(1280, 800))

		// (6) Log out: the form in the header; the pages need a login again.
		b.follow("log out", chromedp.Click(chromedp.CSS(`form.logout button[type="submit"]`)))
		b.wantAt("/login")
		if ck := b.cookie(); ck != nil {
			t.Errorf("after logout the browser keeps the cookie %s", ck.Name)
		}
		b.shot("logged-out")
		b.open("/vendors/mixpanel")
		b.wantAt(loginRedirect("/vendors/mixpanel"))
		e.checkLogs(password)
	})
}

// TestBrowserEscapes (XSS): a hostile vendor's name, description and
// owner, and an incident's notes, are shown as text on the list, the
// vendor page and the incident room; no script runs.
func TestBrowserEscapes(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "weaklink.db"), true)
	e.passwordUser("ada", auth.RoleEditor, password)
	name := `<img src=x onerror="window.__xss=1">`
	desc := `<script>window.__xss=2</script>`
	owner := `"><svg onload="window.__xss=3">`
	if _, err := e.svc.AddVendor(ctx, inventory.Vendor{ID: "hostile", Name: name, Description: desc, Owner: owner,
		Category: "analytics", Status: inventory.VendorStatuses[0], Tags: []string{`<b onclick="window.__xss=4">tag</b>`}}); err != nil {
		t.Fatal(err)
	}
	notes := `<iframe srcdoc="<script>parent.__xss=5</script>"></iframe>`
	in, err := e.svc.OpenIncident(ctx, browserIncident("hostile", name, notes), "ada")
	if err != nil {
		t.Fatal(err)
	}
	b := newChrome(t, e)
	b.open("/login")
	b.login("ada", password)

	// noScript checks that nothing injected became an element or a
	// handler, or ran. (The policy would stop an injected script from
	// running, and log the violation, which fails the test too: these
	// checks find broken escaping even so.)
	noScript := func(where string) {
		t.Helper()
		type dom struct {
			XSS    string   `json:"xss"`
			Tags   []string `json:"tags"`
			Events []string `json:"events"`
		}
		got := cdJS[dom](b, "injected elements", `({
			xss: typeof window.__xss,
			tags: Array.from(document.querySelectorAll("img, iframe, script:not([src='/static/app.js'])")).map(e => e.outerHTML),
			events: Array.from(document.querySelectorAll("*")).flatMap(e => Array.from(e.attributes).filter(a => a.name.startsWith("on")).map(a => e.tagName + " " + a.name)),
		})`)
		if got.XSS != "undefined" || len(got.Tags) > 0 || len(got.Events) > 0 {
			t.Errorf("%s: window.__xss is %s; injected elements %q; handlers %q", where, got.XSS, got.Tags, got.Events)
		}
	}

	b.open("/vendors?q=hostile")
	if got := b.text(`table.vendors a[href="/vendors/hostile"]`); got != name {
		t.Errorf("the list shows the name as %q, want the text %q", got, name)
	}
	if got := cdJS[string](b, "description cell", `document.querySelector('table.vendors td[data-label="Description"]').textContent`); got != desc {
		t.Errorf("the list shows the description as %q", got)
	}
	visible := cdJS[bool](b, "visible", `(() => { const r = document.querySelector('table.vendors a[href="/vendors/hostile"]').getBoundingClientRect(); return r.width > 0 && r.height > 0 })()`)
	if !visible {
		t.Error("the hostile name is not visible")
	}
	noScript("the vendor list")
	b.shot("hostile-list")

	b.follow("open the hostile vendor", chromedp.Click(chromedp.CSS(`table.vendors a[href="/vendors/hostile"]`)))
	b.wantAt("/vendors/hostile")
	if got := b.text("main h1"); got != name {
		t.Errorf("the heading is %q", got)
	}
	if got := b.text("p.description"); got != desc {
		t.Errorf("the description is %q", got)
	}
	if got := b.text("dl.details"); !strings.Contains(got, owner) || !strings.Contains(got, `<b onclick="window.__xss=4">tag</b>`) {
		t.Errorf("the details %q lack the owner or tag as text", got)
	}
	if got := cdJS[string](b, "title", `document.title`); got != name+" · weaklink" {
		t.Errorf("the title is %q", got)
	}
	noScript("the vendor page")
	b.shot("hostile-vendor")

	b.open("/incidents/" + in.ID)
	if got := b.text("#facts p.notes"); got != notes {
		t.Errorf("the incident notes show as %q", got)
	}
	if got := b.text("main h1"); got != name {
		t.Errorf("the incident title shows as %q", got)
	}
	noScript("the incident room")
	b.shot("hostile-incident")
}

// browserIncident is an incident at a vendor, as the Mixpanel one of November
// 2025 (examples/acme/incident-demo.sh).
func browserIncident(vendor, title, notes string) incident.Incident {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return tm
	}
	return incident.Incident{Vendor: vendor, Title: title, Notes: notes, Severity: "high",
		Times: map[incident.Anchor]time.Time{
			incident.AnchorVendorDiscovered: at("2025-11-09T00:00:00Z"),
			incident.AnchorVendorNotified:   at("2025-11-25T18:00:00Z"),
			incident.AnchorAware:            at("2025-11-25T18:00:00Z"),
		},
		Categories: []string{"user.name", "user.contact.email", "user.unique_id"}}
}

// TestBrowserCrossSite: a page on another origin that posts a form to the
// server on its own is refused (403), whether it tries to log the visitor
// in to its own account or to log them out; the visitor's session stays.
// Another port of 127.0.0.1 is another origin of the same site (the
// session cookie goes along; Sec-Fetch-Site: same-site), 127.0.0.2
// another site.
func TestBrowserCrossSite(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "weaklink.db"), false)
	e.passwordUser("ada", auth.RoleViewer, password)
	e.passwordUser("mallory", auth.RoleViewer, password)
	app := e.ts.URL
	evil := func(host string) string {
		l, err := net.Listen("tcp", host+":0")
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fields := ""
			if r.URL.Path == "/login" {
				fields = `<input type="hidden" name="username" value="mallory"><input type="hidden" name="password" value="` + password + `"><input type="hidden" name="next" value="/vendors">`
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>A free prize</title><form method="post" action="%s%s">%s</form><script>document.forms[0].submit()</script>`, app, r.URL.Path, fields)
		}))
		ts.Listener.Close()
		ts.Listener = l
		ts.Start()
		t.Cleanup(ts.Close)
		return ts.URL
	}
	sameSite, crossSite := evil("127.0.0.1"), evil("127.0.0.2")
	b := newChrome(t, e)

	refused := func(from, path string) {
		t.Helper()
		b.follow("visit "+from+path, chromedp.Navigate(from+path))
		b.do("the form posts itself", jsWait(`location.origin === `+jsQuote(app)+` && document.readyState === "complete"`))
		b.wantAt(path)
		if st, body := b.status(), b.text("main"); st != 403 || !strings.Contains(body, "Cross-site request refused") {
			t.Errorf("a form from %s to %s: %d %q", from, path, st, body)
		}
	}
	// Login CSRF: the attacker's account is not logged in.
	for i, from := range []string{sameSite, crossSite} {
		refused(from, "/login")
		b.shot(fmt.Sprintf("cross-site-login-%d", i+1))
		if ck := b.cookie(); ck != nil {
			t.Errorf("a cross-site login from %s set the cookie", from)
		}
		b.open("/vendors")
		b.wantAt(loginRedirect("/vendors"))
	}
	b.login("ada", password)
	b.wantAt("/vendors")
	// Logout CSRF: the visitor stays logged in.
	for i, from := range []string{sameSite, crossSite} {
		refused(from, "/logout")
		b.shot(fmt.Sprintf("cross-site-logout-%d", i+1))
		b.open("/vendors")
		b.wantAt("/vendors")
		if got := b.text("header .who"); !strings.HasPrefix(got, "ada") {
			t.Errorf("after a cross-site logout from %s the header shows %q", from, got)
		}
	}
	// The server's own form still works.
	b.follow("log out", chromedp.Click(chromedp.CSS(`form.logout button[type="submit"]`)))
	b.wantAt("/login")
	e.checkLogs(password)
}

// TestBrowserSessionExpiry: a session ends after its idle time and, used
// all along, after its absolute lifetime; the next page goes to the login
// form, which comes back to that page.
func TestBrowserSessionExpiry(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "weaklink.db"), true)
	e.passwordUser("ada", auth.RoleViewer, password)
	policy := auth.DefaultSessionPolicy
	b := newChrome(t, e)
	b.open("/vendors/mixpanel")
	b.login("ada", password)
	b.wantAt("/vendors/mixpanel")

	// Idle: a working day without a request.
	e.advance(policy.Idle + time.Minute)
	b.open("/vendors/mixpanel")
	b.wantAt(loginRedirect("/vendors/mixpanel"))
	if ck := b.cookie(); ck != nil {
		t.Error("the expired session's cookie is kept")
	}
	b.shot("idle-expired")
	b.login("ada", password)
	b.wantAt("/vendors/mixpanel")

	// Absolute: a request every few hours keeps it alive, up to a week.
	step := policy.Idle - time.Hour
	for lived := step; lived < policy.Absolute; lived += step {
		e.advance(step)
		b.open("/vendors?limit=1")
		if got := b.at(); got != "/vendors?limit=1" {
			t.Fatalf("the session ended after %v of use (absolute %v): at %s", lived, policy.Absolute, got)
		}
	}
	e.advance(step)
	b.open("/vendors?limit=1")
	b.wantAt(loginRedirect("/vendors?limit=1"))
	b.shot("absolute-expired")
}

// TestBrowserSkipLink: on every page the skip link is the first thing Tab
// reaches, and it moves the focus to the main content.
func TestBrowserSkipLink(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "weaklink.db"), true)
	e.passwordUser("ada", auth.RoleViewer, password)
	b := newChrome(t, e)
	check := func(path string) {
		t.Helper()
		b.open(path)
		b.do("Tab", chromedp.KeyEvent(kb.Tab))
		if f := b.focused(); f != `a.skip "Skip to main content"` {
			t.Errorf("%s: the first Tab reaches %s, want the skip link", path, f)
		}
		if !cdJS[bool](b, "skip link shown", `(() => { const r = document.activeElement.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.top >= 0 && r.top < innerHeight })()`) {
			t.Errorf("%s: the focused skip link is not on screen", path)
		}
		if path == "/vendors" {
			b.shot("skip-link-focused")
		}
		b.do("Enter", chromedp.KeyEvent(kb.Enter), jsWait(`location.hash === "#main"`))
		if f := b.focused(); !strings.HasPrefix(f, "main#main") {
			t.Errorf("%s: the skip link moves the focus to %s, want main", path, f)
		}
		b.do("Tab", chromedp.KeyEvent(kb.Tab))
		if !cdJS[bool](b, "focus in main", `document.querySelector("main").contains(document.activeElement) && document.activeElement !== document.querySelector("main")`) {
			t.Errorf("%s: Tab after the skip link reaches %s, outside the main content", path, b.focused())
		}
	}
	check("/login")
	b.open("/login")
	b.login("ada", password)
	for _, p := range []string{"/vendors", "/vendors/mixpanel", "/incidents", "/dashboard"} {
		check(p)
	}
}

// TestBrowserIncidentRoom: open the Mixpanel incident with the form, see
// its clocks and blast radius in the room, contain it (the vendor is
// blocked, the timeline says so), prepare the notification pack, close it.
func TestBrowserIncidentRoom(t *testing.T) {
	e := newIncidentEnv(t, filepath.Join(t.TempDir(), "weaklink.db"), true) // with acme's organization profile
	e.passwordUser("ada", auth.RoleEditor, password)
	b := newChrome(t, e)
	b.open("/incidents")
	b.login("ada", password)
	b.wantAt("/incidents")
	b.shot("incidents")

	title := "Mixpanel: analytics dataset exported after an SMS phishing attack"
	b.do("fill the form",
		chromedp.SetValue(chromedp.CSS("#open-vendor"), "mixpanel"),
		chromedp.Focus(chromedp.CSS("#open-title")), chromedp.KeyEvent(title),
		chromedp.SetValue(chromedp.CSS("#open-severity"), "high"),
		chromedp.SetValue(chromedp.CSS("#open-aware"), "2025-11-09T10:00"),
		chromedp.Focus(chromedp.CSS("#open-categories")), chromedp.KeyEvent("user.name, user.contact.email, user.unique_id"),
		chromedp.Focus(chromedp.CSS("#open-summary")), chromedp.KeyEvent("Mixpanel says an attacker exported a dataset."),
	)
	b.shot("incident-form")
	b.follow("open the incident", chromedp.Click(chromedp.CSS(`form[method="post"][action="/incidents"] button[type="submit"]`)))
	list, err := e.store.ListIncidents(ctx, store.IncidentFilter{})
	if err != nil || len(list) != 1 {
		b.fail("open an incident", fmt.Errorf("%d incidents after the form (%v): %.500s", len(list), err, b.text("main")))
	}
	id := list[0].ID
	if u, _ := url.Parse(b.at()); u.Path != "/incidents/"+id {
		t.Fatalf("after opening: at %s, want the room /incidents/%s", b.at(), id)
	}
	if got := b.text("main h1"); got != title {
		t.Errorf("the room's heading %q", got)
	}
	visible := func(sel string) bool {
		return cdJS[bool](b, sel+" visible", `(() => { const el = document.querySelector(`+jsQuote(sel)+`); if (!el) return false; const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 })()`)
	}
	for _, sel := range []string{"section#clocks", "section#blast-radius", "section#timeline"} {
		if !visible(sel) {
			t.Errorf("the room shows no %s", sel)
		}
	}
	if got := b.text("section#clocks"); !strings.Contains(got, "GDPR") && !strings.Contains(got, "72") {
		t.Errorf("the clocks name no GDPR deadline: %.300s", got)
	}
	if got := b.text("section#blast-radius"); !strings.Contains(got, "Mixpanel") {
		t.Errorf("the blast radius does not name Mixpanel: %.300s", got)
	}
	timeline := func() []string {
		return cdJS[[]string](b, "timeline", `Array.from(document.querySelectorAll("#timeline li .kind")).map(e => e.textContent.trim())`)
	}
	if got := timeline(); !slices.Equal(got, []string{"opened"}) {
		t.Errorf("the new incident's timeline: %q", got)
	}
	b.shot("incident-room")

	// Contain: the kill switch (app.js asks first; the harness says yes).
	asked := len(b.asked())
	b.follow("contain", chromedp.Click(chromedp.CSS(`form[action$="/contain"] button[type="submit"]`)))
	if u, _ := url.Parse(b.at()); u.Path != "/incidents/"+id {
		t.Fatalf("after Contain: at %s", b.at())
	}
	if len(b.asked()) != asked+1 {
		t.Errorf("Contain asked %q, want one confirmation", b.asked()[asked:])
	}
	if got := timeline(); !slices.Contains(got, "contained") {
		t.Errorf("after Contain the timeline has %q", got)
	}
	if got := b.text("section#containment"); !strings.Contains(got, "Blocked") || !strings.Contains(got, "mixpanel") {
		t.Errorf("after Contain the containment section says %.300s", got)
	}
	if gates, err := e.store.Gates(ctx, []string{"mixpanel"}); err != nil || gates["mixpanel"].Block == nil {
		t.Errorf("mixpanel is not blocked in the store (%v)", err)
	}
	b.shot("incident-contained")

	// Notify: the pack is prepared, on the timeline, and offered.
	b.follow("notify", chromedp.Click(chromedp.CSS(`form[action$="/notify"] button[type="submit"]`)))
	if !slices.Contains(timeline(), "notified") || !visible(`a[href$="/pack.zip"]`) {
		t.Errorf("after Notify: the timeline has %q; a pack link: %v", timeline(), visible(`a[href$="/pack.zip"]`))
	}
	b.shot("incident-notified")

	b.follow("close", chromedp.Focus(chromedp.CSS("#close-note")), chromedp.KeyEvent("Mixpanel confirmed the scope."),
		chromedp.Click(chromedp.CSS(`form[action$="/close"] button[type="submit"]`)))
	if got := b.text(".incident-head"); !strings.Contains(got, "closed") {
		t.Errorf("after Close the head says %q", got)
	}
	if visible(`form[action$="/contain"]`) {
		t.Error("a closed incident still offers Contain")
	}
	b.shot("incident-closed")

	// The vendor page shows the block.
	b.follow("open the vendor", chromedp.Click(chromedp.CSS(`.incident-head a[href="/vendors/mixpanel"]`)))
	if got := b.text("p.blocked"); !strings.HasPrefix(got, "Blocked") {
		t.Errorf("the vendor page says %q, want Blocked", got)
	}
	b.shot("vendor-blocked")
}
