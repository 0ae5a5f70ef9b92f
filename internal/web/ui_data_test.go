package web_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// TestUIDataExplorer: the who-has answer for user.contact.email in the
// acme example, as the service gives it: every holder with its paths
// (mixpanel → gcp), systems and flow sources, a labelled SVG and its
// table; the tree's counts are who-has's, for every category.
func TestUIDataExplorer(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		sess := e.session("viewer")
		wh, err := e.svc.WhoHas(ctx, "user.contact.email")
		if err != nil {
			t.Fatal(err)
		}
		body := e.okPage("/data?category=user.contact.email", sess)
		for _, want := range []string{
			`<h2 id="answer-heading"><code>user.contact.email</code> Email address</h2>`,
			fmt.Sprintf("%d vendors hold this data", len(wh.Holders)),
			`href="/vendors/mixpanel"`, `href="/vendors/gcp"`,
			"dashboard-staging → mixpanel → gcp",
			"(declared)", `data-label="Flow sources">declared`,
			`<svg role="img" aria-labelledby="dg-title dg-desc"`, `<title id="dg-title">Diagram of who has user.contact.email:`,
			`<summary>The diagram as a table</summary>`,
			`<th scope="row" data-label="From">mixpanel</th><td data-label="Link">passes to</td><td data-label="To">gcp</td>`,
			`<th scope="row" data-label="From">dashboard-staging</th><td data-label="Link">sends to</td><td data-label="To">mixpanel</td>`,
			`<a href="/data?category=user.contact.email" aria-current="true" class="current">`,
			`<label for="category">`, `href="/static/data.css"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		// The diagram draws a box for every holder.
		for _, h := range wh.Holders {
			if !strings.Contains(body, `href="/vendors/`+h.Vendor+`"`) {
				t.Errorf("no row for %s", h.Vendor)
			}
			if !strings.Contains(body, "<title>"+html.EscapeString(h.Vendor+" ("+h.Name+"), ")) {
				t.Errorf("no diagram box for %s", h.Vendor)
			}
		}
		if strings.Contains(withoutAppScript(body), "<script") || strings.Contains(body, " style=") {
			t.Error("inline script or style")
		}
		// The ancestors of the category are open, and the tree counts
		// match who-has for every category.
		if !strings.Contains(body, "<details open>") {
			t.Error("no open branch")
		}
		countRe := regexp.MustCompile(`<a href="/data\?category=([a-z0-9_.]+)"[^>]*><code>[^<]*</code></a>\s*<span class="cat-name">[^<]*</span>\s*(?:<span class="holders">(\d+) vendors?</span>)?`)
		counts := map[string]string{}
		for _, m := range countRe.FindAllStringSubmatch(body, -1) {
			counts[m[1]] = m[2]
		}
		tax := taxonomy.Default()
		if len(counts) != len(tax.Keys()) {
			t.Errorf("the tree shows %d categories, the taxonomy has %d", len(counts), len(tax.Keys()))
		}
		for _, k := range tax.Keys() {
			w, err := e.svc.WhoHas(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if len(w.Holders) > 0 {
				want = fmt.Sprint(len(w.Holders))
			}
			if got, ok := counts[k]; !ok || got != want {
				t.Errorf("%s: the tree says %q vendors, who-has %q", k, got, want)
			}
		}
		// Without a category: the tree and the search box only.
		if b := e.okPage("/data", sess); strings.Contains(b, "answer-heading") || !strings.Contains(b, `<ul class="tree">`) {
			t.Error("/data without a category")
		}
		// A category nobody receives.
		for k, n := range counts {
			if n == "" {
				if b := e.okPage("/data?category="+k, sess); !strings.Contains(b, "No vendor receives this data") || strings.Contains(b, "<svg") {
					t.Errorf("an empty answer (%s)", k)
				}
				break
			}
		}
		e.checkLogs()
	})
}

// TestUIDataUnknownCategory: a precise 400 with a suggestion; a word
// finds its category.
func TestUIDataUnknownCategory(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		sess := e.session("auditor")
		res := e.page(pageReq{path: "/data?category=user.contact.emial", cookie: sess})
		if res.status != 400 {
			t.Fatalf("unknown category: %d", res.status)
		}
		checkUIHeaders(t, "unknown category", res)
		for _, want := range []string{
			`Unknown data category &#34;user.contact.emial&#34;`,
			`Did you mean <a href="/data?category=user.contact.email"><code>user.contact.email</code></a> (Email address)?`,
			`role="alert"`, `aria-describedby="category-problem"`, `value="user.contact.emial"`,
		} {
			if !strings.Contains(res.body, want) {
				t.Errorf("the 400 page lacks %q: %.3000s", want, res.body)
			}
		}
		// A word that names one category goes to it; several are listed.
		res = e.page(pageReq{path: "/data?category=email", cookie: sess})
		if res.status != 303 || res.header.Get("Location") != "/data?category=user.contact.email" {
			t.Errorf("search by word: %d %q", res.status, res.header.Get("Location"))
		}
		if b := e.okPage("/data?category=contact", sess); !strings.Contains(b, "categories match “contact”") {
			t.Error("several matches")
		}
		// Hostile and overlong text.
		res = e.page(pageReq{path: "/data?category=" + url.QueryEscape(`"><script>alert(1)</script>`), cookie: sess})
		if res.status != 400 || strings.Contains(withoutAppScript(res.body), "<script") {
			t.Errorf("hostile query: %d", res.status)
		}
		res = e.page(pageReq{path: "/data?category=" + strings.Repeat("a", 201), cookie: sess})
		if res.status != 400 || !strings.Contains(res.body, "longer than 200 characters") {
			t.Errorf("long query: %d", res.status)
		}
		// A role without inventory:read.
		if res := e.page(pageReq{path: "/data?category=user", cookie: e.session("gateway")}); res.status != 403 {
			t.Errorf("gateway: %d", res.status)
		}
	})
}

// TestUIDataEscapes: a hostile vendor name reaching the answer is text.
func TestUIDataEscapes(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		if _, err := e.svc.AddVendor(ctx, inventory.Vendor{ID: "hostile", Name: `<script>alert(1)</script>`,
			Category: "other", Status: "active", Subprocessors: []string{"gcp"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AddFlow(ctx, inventory.Flow{System: "platform-dashboard", Vendor: "hostile",
			Categories: []string{"user.contact.email"}, Purpose: "analytics"}); err != nil {
			t.Fatal(err)
		}
		body := withoutAppScript(e.okPage("/data?category=user.contact.email", e.session("viewer")))
		if strings.Contains(body, "<script") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Error("the hostile name is not escaped")
		}
		if !strings.Contains(body, "platform-dashboard → hostile → gcp") {
			t.Error("no path through the new vendor")
		}
	})
}
