package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/weaklink/weaklink/internal/cli"
)

// a11yAudit checks, in the page, what a screen reader and a keyboard
// need, and returns one line per problem: the document's language, one
// h1 and no skipped heading level, a name for every form field, button
// and link, every SVG an image with a name (or hidden), unique ids, and
// no sideways scrolling.
const a11yAudit = `(() => {
  const out = [];
  const vis = el => !el.closest("[hidden],[aria-hidden=true]") && el.getClientRects().length > 0;
  const named = el => (el.getAttribute("aria-label") || "").trim() ||
    (el.getAttribute("aria-labelledby") || "").split(/\s+/).map(id => document.getElementById(id)?.textContent || "").join("").trim() ||
    (el.labels && Array.from(el.labels).map(l => l.textContent).join("").trim()) ||
    (el.getAttribute("title") || "").trim();
  if (!document.documentElement.lang) out.push("no lang on <html>");
  const hs = Array.from(document.querySelectorAll("h1,h2,h3,h4,h5,h6")).filter(vis);
  if (hs.filter(h => h.tagName === "H1").length !== 1) out.push(hs.filter(h => h.tagName === "H1").length + " h1 elements");
  let last = 0;
  for (const h of hs) {
    const n = +h.tagName[1];
    if (last && n > last + 1) out.push("heading " + h.tagName + " '" + h.textContent.trim().slice(0, 40) + "' after h" + last);
    last = n;
  }
  for (const el of document.querySelectorAll("input:not([type=hidden]),select,textarea")) {
    if (vis(el) && !named(el)) out.push("unlabelled " + el.tagName.toLowerCase() + (el.name ? " name=" + el.name : ""));
  }
  for (const el of document.querySelectorAll("button")) {
    if (vis(el) && !el.textContent.trim() && !named(el)) out.push("button without a name");
  }
  for (const el of document.querySelectorAll("a[href]")) {
    if (vis(el) && el.getAttribute("tabindex") !== "-1" && !el.textContent.trim() && !named(el)) out.push("link without text: " + el.getAttribute("href"));
  }
  for (const s of document.querySelectorAll("svg")) {
    if (s.closest("[aria-hidden=true]")) continue;
    if (s.getAttribute("role") !== "img") out.push("svg#" + s.id + " without role=img");
    else if (!named(s) && !s.querySelector(":scope > title")) out.push("svg#" + s.id + " without a name");
  }
  const ids = {};
  for (const el of document.querySelectorAll("[id]")) ids[el.id] = (ids[el.id] || 0) + 1;
  for (const [id, n] of Object.entries(ids)) if (n > 1) out.push("id " + id + " used " + n + " times");
  if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push("scrolls sideways: " + document.documentElement.scrollWidth + " px wide in " + window.innerWidth);
  return out;
})()`

// TestBrowserAccessibility audits every page of the demo (the example
// company, the gateway's ledger, the open Mixpanel incident) as an admin,
// on a laptop and on a phone (375 px), for the basics a keyboard and a
// screen reader need; and the login page, logged out.
func TestBrowserAccessibility(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d, err := cli.StartDemo(ctx, cli.DemoOptions{Dir: t.TempDir(), Addr: "127.0.0.1:0", GatewayAddr: "127.0.0.1:0"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = d.Wait() })
	b := newChromeAt(t, d.URL)
	audit := func(what string) {
		t.Helper()
		if problems := cdJS[[]string](b, "audit", a11yAudit); len(problems) > 0 {
			t.Errorf("%s:\n  %s", what, strings.Join(problems, "\n  "))
		}
	}
	// The audit itself finds what it looks for.
	const bad = `<!doctype html><html><body><h1>a</h1><h1>b</h1><h4>c</h4><input name=q><button></button>` +
		`<a href="/x"></a><svg id=s width=10 height=10></svg><p id=d></p><p id=d></p><div style="width:3000px">wide</div></body></html>`
	b.do("a page with every problem", chromedp.Navigate("data:text/html,"+url.PathEscape(bad)))
	got := strings.Join(cdJS[[]string](b, "audit", a11yAudit), "\n")
	for _, want := range []string{"no lang", "2 h1 elements", "heading H4", "unlabelled input name=q", "button without a name",
		"link without text: /x", "svg#s without role=img", "id d used 2 times", "scrolls sideways"} {
		if !strings.Contains(got, want) {
			t.Errorf("the audit missed %q; it found:\n%s", want, got)
		}
	}

	b.open("/login")
	audit("/login")
	b.login("admin", d.Password)
	audit("/account/password (one-time)")
	const mine = "an accessible demo passphrase"
	b.do("choose a password",
		chromedp.Focus(chromedp.CSS("#current_password")), chromedp.KeyEvent(d.Password),
		chromedp.Focus(chromedp.CSS("#new_password")), chromedp.KeyEvent(mine),
		chromedp.Focus(chromedp.CSS("#confirm_password")), chromedp.KeyEvent(mine))
	b.follow("change it", chromedp.Click(chromedp.CSS(`form[action="/account/password"] button[type="submit"]`)))
	pages := []string{"/dashboard", "/vendors", "/vendors?category=analytics&sort=-criticality", "/vendors/mixpanel", "/vendors/gcp",
		"/data", "/data?category=user.contact.email", "/incidents", "/incidents/" + d.Incident, "/inventory", "/account/password",
		"/no/such/page"}
	for _, width := range []int64{1280, 375} {
		b.do("width", chromedp.EmulateViewport(width, 900))
		for _, p := range pages {
			b.open(p)
			audit(fmt.Sprintf("%s at %d px", p, width))
		}
	}
	b.shot("incident-room-phone")
}
