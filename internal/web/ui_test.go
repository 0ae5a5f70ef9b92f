package web_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

// pageReq is a browser-like request to the UI: a form body, the session
// cookie, more headers; redirects are not followed.
type pageReq struct {
	method, path string
	form         url.Values
	cookie       string
	header       map[string]string
}

type pageResp struct {
	status int
	header http.Header
	body   string
}

func (e *env) page(r pageReq) pageResp {
	e.t.Helper()
	if r.method == "" {
		r.method = "GET"
	}
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	hr, err := http.NewRequest(r.method, e.ts.URL+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: web.CookieName, Value: r.cookie})
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	client := *e.ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return pageResp{res.StatusCode, res.Header, string(b)}
}

// okPage gets a page that must answer 200 with HTML and the UI's policy.
func (e *env) okPage(path, cookie string) string {
	e.t.Helper()
	res := e.page(pageReq{path: path, cookie: cookie})
	if res.status != 200 {
		e.t.Fatalf("GET %s: %d %.300s", path, res.status, res.body)
	}
	checkUIHeaders(e.t, path, res)
	return res.body
}

func checkUIHeaders(t *testing.T, what string, res pageResp) {
	t.Helper()
	if ct := res.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	csp := res.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "script-src 'self'", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: the policy %q lacks %q", what, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
		t.Errorf("%s: the policy %q allows too much", what, csp)
	}
	if res.header.Get("X-Content-Type-Options") != "nosniff" || res.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: security headers %v", what, res.header)
	}
}

// loginRedirect is where an anonymous visitor of path is sent.
func loginRedirect(path string) string {
	return "/login?" + url.Values{"next": {path}}.Encode()
}

func TestUIRouteTableIsChecked(t *testing.T) {
	svc := service.New(nil)
	for _, tc := range []struct {
		name string
		edit func(*web.UIRoute)
		want string
	}{
		{"no permission", func(r *web.UIRoute) { r.Perm = "" }, "no permission"},
		{"unknown permission", func(r *web.UIRoute) { r.Perm = "vendors:read" }, `unknown permission "vendors:read"`},
		{"other method", func(r *web.UIRoute) { r.Method = "DELETE" }, `method "DELETE"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := web.UIRouteTable()
			i := slices.IndexFunc(table, func(r web.UIRoute) bool { return r.Path == "/vendors/{id}" })
			tc.edit(&table[i])
			_, err := web.NewWithUIRoutes(web.Options{Service: svc}, table)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("a bad UI table: %v, want %q", err, tc.want)
			}
		})
	}
	table := append(web.UIRouteTable(), web.UIRouteTable()[0])
	if _, err := web.NewWithUIRoutes(web.Options{Service: svc}, table); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("duplicate UI route: %v", err)
	}
}

// intendedUI is the access policy of every UI route, apart from the
// table, as intended is for the API's.
var intendedUI = map[string]auth.Permission{
	"GET /static/{file}":      web.Public,
	"GET /login":              web.Public,
	"POST /login":             web.Public,
	"GET /auth/oidc/login":    web.Public,
	"GET /auth/oidc/callback": web.Public,
	"POST /logout":            web.Authenticated,
	"GET /account/password":   web.Authenticated,
	"POST /account/password":  web.Authenticated,
	"GET /{$}":                web.Authenticated,
	"GET /vendors":            auth.InventoryRead,
	"GET /dashboard":          auth.InventoryRead,
	"GET /vendors/{id}":       auth.InventoryRead,
	"GET /data":               auth.InventoryRead,
	"GET /inventory":          auth.InventoryRead,
	"GET /inventory/export":   auth.InventoryRead,
	"POST /inventory/import":  auth.InventoryWrite,
	"POST /inventory/apply":   auth.InventoryWrite,
	// The incident room.
	"GET /incidents":               auth.IncidentsRead,
	"POST /incidents":              auth.IncidentsWrite,
	"GET /incidents/{id}":          auth.IncidentsRead,
	"POST /incidents/{id}/update":  auth.IncidentsWrite,
	"POST /incidents/{id}/contain": auth.IncidentsWrite,
	"POST /incidents/{id}/notify":  auth.IncidentsWrite,
	"POST /incidents/{id}/close":   auth.IncidentsWrite,
	"GET /incidents/{id}/pack.zip": auth.IncidentsWrite,
}

func uiPath(p string) string {
	switch p {
	case "/{$}":
		return "/"
	case "/static/{file}":
		return "/static/style.css"
	case "/vendors/{id}":
		return "/vendors/segment"
	case "/data":
		return "/data?category=user.contact.email"
	}
	if rest, ok := strings.CutPrefix(p, "/incidents/{id}"); ok {
		return "/incidents/0000-none" + rest // no such incident: a 404 for those allowed
	}
	return p
}

// TestUIAuthorizationMatrix visits every UI route as every role (with
// a session cookie, as a browser does) and anonymously: an anonymous
// visitor of a page that needs a login goes to the login form, a role
// without the permission gets a 403 page, and nothing fails with a 5xx.
func TestUIAuthorizationMatrix(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		routes := web.UIRoutes()
		for _, rt := range routes {
			key := rt.Method + " " + rt.Path
			if want, ok := intendedUI[key]; !ok || want != rt.Perm {
				t.Errorf("%s: the UI table says %q, the intended policy %q", key, rt.Perm, want)
			}
			path := uiPath(rt.Path)
			for _, role := range append([]auth.Role{""}, auth.Roles...) {
				r := pageReq{method: rt.Method, path: path}
				if rt.Method == "POST" {
					r.form = url.Values{}
				}
				name := fmt.Sprintf("%s as %q", key, role)
				if role != "" {
					r.cookie = e.session(string(role))
				}
				res := e.page(r)
				switch {
				case res.status >= 500:
					t.Errorf("%s: %d %.300s", name, res.status, res.body)
				case rt.Perm == web.Public:
					if res.status == 401 || res.status == 403 || res.status == 303 && strings.HasPrefix(res.header.Get("Location"), "/login?") {
						t.Errorf("%s: %d %s", name, res.status, res.header.Get("Location"))
					}
				case role == "":
					if res.status != 303 || res.header.Get("Location") != loginRedirect(path) {
						t.Errorf("%s: %d to %q, want 303 to the login form", name, res.status, res.header.Get("Location"))
					}
				case rt.Perm != web.Authenticated && !role.Can(rt.Perm):
					if res.status != 403 || !strings.Contains(res.body, "may not see this page") {
						t.Errorf("%s: %d, want the 403 page: %.300s", name, res.status, res.body)
					}
					checkUIHeaders(t, name, res)
				default:
					if res.status == 401 || res.status == 403 || strings.HasPrefix(res.header.Get("Location"), "/login?") {
						t.Errorf("%s: %d %s", name, res.status, res.header.Get("Location"))
					}
				}
			}
		}
		if len(routes) != len(intendedUI) {
			t.Errorf("%d UI routes, %d in the intended policy", len(routes), len(intendedUI))
		}
		e.checkLogs()
	})
}

func TestUILogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		e.passwordUser("ada", auth.RoleViewer, password) // a password that stays: this is about logging in
		// An anonymous visitor goes to the form, which remembers the page.
		res := e.page(pageReq{path: "/vendors?q=mix&status=active"})
		if res.status != 303 || res.header.Get("Location") != loginRedirect("/vendors?q=mix&status=active") {
			t.Fatalf("anonymous: %d %q", res.status, res.header.Get("Location"))
		}
		if res = e.page(pageReq{path: "/"}); res.status != 303 || res.header.Get("Location") != loginRedirect("/") {
			t.Errorf("anonymous home: %d %q", res.status, res.header.Get("Location"))
		}
		form := e.okPage(res.header.Get("Location"), "")
		for _, want := range []string{`<label for="username">`, `<label for="password">`, `method="post" action="/login"`,
			`name="next" value="/"`, `autocomplete="current-password"`, `href="/static/style.css"`} {
			if !strings.Contains(form, want) {
				t.Errorf("the form lacks %q", want)
			}
		}
		// Wrong passwords and unknown users: one message, 401.
		var failed []string
		for _, f := range []url.Values{
			{"username": {"ada"}, "password": {"not the right passphrase"}},
			{"username": {"nobody"}, "password": {password}},
			{"username": {"viewer"}, "password": {password}}, // has no password
		} {
			res := e.page(pageReq{method: "POST", path: "/login", form: f})
			if res.status != 401 || !strings.Contains(res.body, "Wrong user name or password.") || res.header.Get("Set-Cookie") != "" {
				t.Errorf("login %v: %d %.300s", f, res.status, res.body)
			}
			checkUIHeaders(t, "failed login", res)
			failed = append(failed, strings.ReplaceAll(res.body, f.Get("username"), "NAME"))
		}
		if failed[0] != failed[1] || failed[1] != failed[2] {
			t.Errorf("failed logins differ:\n%s\n%s", failed[0], failed[1])
		}
		// The right password: the API's cookie, then the page asked for.
		res = e.page(pageReq{method: "POST", path: "/login",
			form: url.Values{"username": {"Ada"}, "password": {password}, "next": {"/vendors?q=mix"}}})
		if res.status != 303 || res.header.Get("Location") != "/vendors?q=mix" {
			t.Fatalf("login: %d %q %.300s", res.status, res.header.Get("Location"), res.body)
		}
		cookies := (&http.Response{Header: res.header}).Cookies()
		if len(cookies) != 1 {
			t.Fatalf("cookies: %v", res.header["Set-Cookie"])
		}
		c := cookies[0]
		if c.Name != "__Host-weaklink_session" || !strings.HasPrefix(c.Value, auth.SessionPrefix) || !c.Secure || !c.HttpOnly ||
			c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge <= 0 {
			t.Errorf("cookie: %s", res.header.Get("Set-Cookie"))
		}
		e.secrets = append(e.secrets, c.Value)
		page := e.okPage("/vendors?q=mix", c.Value)
		if !strings.Contains(page, "ada") || !strings.Contains(page, `action="/logout"`) {
			t.Errorf("the page does not show who is logged in: %.500s", page)
		}
		if res := e.page(pageReq{path: "/", cookie: c.Value}); res.status != 303 || res.header.Get("Location") != "/dashboard" {
			t.Errorf("home: %d %q", res.status, res.header.Get("Location"))
		}
		e.checkLogs(password)
	})
}

// TestUILoginOpenRedirect: the page to go to after logging in is a path
// on this site; anything else goes to /vendors.
func TestUILoginOpenRedirect(t *testing.T) {
	for next, want := range map[string]string{
		"/vendors/segment":               "/vendors/segment",
		"/vendors?q=a&status=active":     "/vendors?q=a&status=active",
		"/":                              "/",
		"":                               "/dashboard",
		"//evil.example/":                "/dashboard",
		"https://evil.example/":          "/dashboard",
		"/\\evil.example":                "/dashboard",
		"\\\\evil.example":               "/dashboard",
		"javascript:alert(1)":            "/dashboard",
		"vendors":                        "/dashboard",
		"/login":                         "/dashboard",
		"/%2F%2Fevil.example":            "/dashboard",
		"/\t/evil.example":               "/dashboard",
		"https:/evil.example":            "/dashboard",
		"/vendors\r\nLocation: //x.test": "/dashboard",
	} {
		if got := web.SafeNext(next); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", next, got, want)
		}
	}
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		if _, _, err := e.svc.AddUser(ctx, "ada", auth.RoleViewer, password); err != nil {
			t.Fatal(err)
		}
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
			form := e.okPage("/login?"+url.Values{"next": {next}}.Encode(), "")
			if !strings.Contains(form, `name="next" value="/dashboard"`) || strings.Contains(form, "evil.example") {
				t.Errorf("the form keeps next=%q", next)
			}
			res := e.page(pageReq{method: "POST", path: "/login", form: url.Values{"username": {"ada"}, "password": {password}, "next": {next}}})
			if res.status != 303 || res.header.Get("Location") != "/dashboard" {
				t.Errorf("login with next=%q: %d to %q", next, res.status, res.header.Get("Location"))
			}
			for _, ck := range (&http.Response{Header: res.header}).Cookies() {
				e.secrets = append(e.secrets, ck.Value)
			}
		}
		e.checkLogs(password)
	})
}

func TestUILoginRateLimit(t *testing.T) {
	e := newEnv(t, t.TempDir()+"/weaklink.db", false)
	if _, _, err := e.svc.AddUser(ctx, "ada", auth.RoleViewer, password); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		res := e.page(pageReq{method: "POST", path: "/login", form: url.Values{"username": {"ada"}, "password": {"guess " + strconv.Itoa(i) + " is wrong"}}})
		if res.status != 401 {
			t.Fatalf("guess %d: %d", i, res.status)
		}
	}
	res := e.page(pageReq{method: "POST", path: "/login", form: url.Values{"username": {"ada"}, "password": {password}}})
	if res.status != 429 || !strings.Contains(res.body, "Too many attempts") || res.header.Get("Retry-After") == "" || res.header.Get("Set-Cookie") != "" {
		t.Errorf("sixth attempt: %d %v %.300s", res.status, res.header, res.body)
	}
	e.checkLogs(password)
}

// TestUICrossSite: a cross-site form post is refused, to log out as to
// log in; the same site's works.
func TestUICrossSite(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		if _, _, err := e.svc.AddUser(ctx, "ada", auth.RoleViewer, password); err != nil {
			t.Fatal(err)
		}
		sess := e.session("viewer")
		for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}} {
			res := e.page(pageReq{method: "POST", path: "/logout", form: url.Values{}, cookie: sess, header: h})
			if res.status != 403 || !strings.Contains(res.body, "Cross-site request refused") || res.header.Get("Set-Cookie") != "" {
				t.Errorf("cross-site logout %v: %d %.300s", h, res.status, res.body)
			}
			checkUIHeaders(t, "cross-site logout", res)
			res = e.page(pageReq{method: "POST", path: "/login", form: url.Values{"username": {"ada"}, "password": {password}}, header: h})
			if res.status != 403 || res.header.Get("Set-Cookie") != "" {
				t.Errorf("cross-site login %v: %d", h, res.status)
			}
		}
		e.okPage("/vendors", sess) // still logged in
		res := e.page(pageReq{method: "POST", path: "/logout", form: url.Values{}, cookie: sess, header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
		if res.status != 303 || res.header.Get("Location") != "/login" || !strings.Contains(res.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("logout: %d %v", res.status, res.header)
		}
		if res := e.page(pageReq{path: "/vendors", cookie: sess}); res.status != 303 || res.header.Get("Location") != loginRedirect("/vendors") {
			t.Errorf("after logout: %d %q", res.status, res.header.Get("Location"))
		}
		e.checkLogs(password)
	})
}

func TestUIForbidden(t *testing.T) {
	e := newEnv(t, t.TempDir()+"/weaklink.db", true)
	sess := e.session("gateway")
	for _, p := range []string{"/vendors", "/vendors/segment"} {
		res := e.page(pageReq{path: p, cookie: sess})
		if res.status != 403 || !strings.Contains(res.body, "Your role (gateway) may not see this page.") || strings.Contains(res.body, "Segment") {
			t.Errorf("%s as gateway: %d %.500s", p, res.status, res.body)
		}
		checkUIHeaders(t, p, res)
	}
	// A stale cookie is a visitor to send to the login form.
	if res := e.page(pageReq{path: "/vendors", cookie: auth.SessionPrefix + "nonsense"}); res.status != 303 {
		t.Errorf("stale cookie: %d", res.status)
	}
}

// appScript is the one script a page may hold: the embedded enhancement
// file, by URL.
const appScript = `<script src="/static/app.js" defer></script>`

// withoutAppScript removes the page's one allowed script tag, so that any
// other "<script" left is a failure.
func withoutAppScript(body string) string {
	return strings.Replace(body, appScript, "", 1)
}

// TestUIEscapes: a hostile vendor's text is shown as text.
func TestUIEscapes(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		name := `<script>alert(1)</script>`
		desc := `"><img src=x onerror=alert(1)>`
		if _, err := e.svc.AddVendor(ctx, inventory.Vendor{ID: "hostile", Name: name, Description: desc, Owner: `<b>owner</b>`,
			Category: inventory.VendorCategories[0], Status: inventory.VendorStatuses[0], Tags: []string{`<i>tag</i>`}}); err != nil {
			t.Fatal(err)
		}
		sess := e.session("viewer")
		for _, p := range []string{"/vendors", "/vendors?q=" + url.QueryEscape(`<script>`), "/vendors/hostile",
			"/vendors?q=" + url.QueryEscape(`"><img src=x onerror=alert(1)>`)} {
			body := withoutAppScript(e.okPage(p, sess))
			for _, bad := range []string{"<script", "<img", "<b>", "<i>", "onerror=alert(1)>"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s: the page holds %q unescaped", p, bad)
				}
			}
			if p == "/vendors?q=%3Cscript%3E" {
				if !strings.Contains(body, `value="&lt;script&gt;"`) {
					t.Errorf("%s: the search box does not hold the escaped text", p)
				}
				continue
			}
			if !strings.Contains(body, html.EscapeString(name)) && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s: no escaped name", p)
			}
			if !strings.Contains(body, "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;") {
				t.Errorf("%s: no escaped description", p)
			}
		}
		body := withoutAppScript(e.okPage("/vendors/hostile", sess))
		if !strings.Contains(body, "<title>&lt;script&gt;alert(1)&lt;/script&gt; · weaklink</title>") {
			t.Errorf("title: %.400s", body)
		}
		if strings.Contains(body, "<script") || strings.Contains(body, " style=") {
			t.Error("a page holds inline script or style")
		}
	})
}

// TestUIVendorList: search, filters, sort and pages come from the store,
// and the links carry them.
func TestUIVendorList(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		sess := e.session("viewer")
		total, err := e.store.CountVendors(ctx, store.VendorFilter{})
		if err != nil || total < 21 {
			t.Fatalf("acme has %d vendors (%v)", total, err)
		}
		pages := int((total + 9) / 10)

		body := e.okPage("/vendors?limit=10", sess)
		for _, want := range []string{
			fmt.Sprintf("Vendors 1–10 of %d", total),
			`rel="next" href="/vendors?limit=10&amp;page=2"`,
			fmt.Sprintf("Page 1 of %d", pages),
			`<a class="skip" href="#main">`, `<main id="main"`,
			`<label for="q">`, `<label for="status">`, `<label for="category">`, `<label for="sort">`,
			`<th scope="col"`, `<th scope="row"`, `name="limit" value="10"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page 1 lacks %q", want)
			}
		}
		if strings.Contains(body, `rel="prev"`) {
			t.Error("page 1 links to a previous page")
		}
		if n := strings.Count(body, `<th scope="row"`); n != 10 {
			t.Errorf("page 1 has %d rows", n)
		}
		last := e.okPage(fmt.Sprintf("/vendors?limit=10&page=%d", pages), sess)
		rows := int(total) - (pages-1)*10
		for _, want := range []string{
			fmt.Sprintf("Vendors %d–%d of %d", (pages-1)*10+1, total, total),
			fmt.Sprintf(`rel="prev" href="/vendors?limit=10&amp;page=%d"`, pages-1),
		} {
			if !strings.Contains(last, want) {
				t.Errorf("the last page lacks %q", want)
			}
		}
		if strings.Contains(last, `rel="next"`) || strings.Count(last, `<th scope="row"`) != rows {
			t.Errorf("the last page: next link or %d rows", strings.Count(last, `<th scope="row"`))
		}
		// Page 2 links back to the first page without page=.
		if p2 := e.okPage("/vendors?limit=10&page=2", sess); !strings.Contains(p2, `rel="prev" href="/vendors?limit=10"`) {
			t.Error("page 2's previous link")
		}

		// Sort and filters, as the store orders and counts them; the
		// links keep them.
		all, err := e.store.ListVendors(ctx, store.VendorFilter{Sort: "-name", Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		sorted := e.okPage("/vendors?sort=-name&limit=3", sess)
		at := -1
		for _, v := range all {
			i := strings.Index(sorted, `href="/vendors/`+v.ID+`"`)
			if i < at {
				t.Errorf("sort -name: %s out of order", v.ID)
			}
			at = i
		}
		if !strings.Contains(sorted, `aria-sort="descending"`) || !strings.Contains(sorted, `rel="next" href="/vendors?limit=3&amp;page=2&amp;sort=-name"`) {
			t.Errorf("sorted page: no aria-sort or next link keeping the sort")
		}
		cat := all[0].Category
		f := store.VendorFilter{Category: cat, Status: all[0].Status}
		n, err := e.store.CountVendors(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		filtered := e.okPage("/vendors?"+url.Values{"category": {cat}, "status": {all[0].Status}, "limit": {"1"}}.Encode(), sess)
		if !strings.Contains(filtered, fmt.Sprintf("Vendors 1–1 of %d", n)) ||
			!strings.Contains(filtered, fmt.Sprintf(`<option value="%s" selected>`, cat)) {
			t.Errorf("filtered by %s/%s: want %d: %.2000s", cat, all[0].Status, n, filtered)
		}
		if n > 1 && !strings.Contains(filtered, html.EscapeString("/vendors?"+url.Values{"category": {cat}, "limit": {"1"}, "page": {"2"}, "status": {all[0].Status}}.Encode())) {
			t.Error("the filtered next link does not keep the filters")
		}
		// Search.
		q := all[0].ID[:3]
		n, err = e.store.CountVendors(ctx, store.VendorFilter{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if body := e.okPage("/vendors?q="+q, sess); !strings.Contains(body, fmt.Sprintf("of %d", n)) || !strings.Contains(body, `value="`+q+`"`) {
			t.Errorf("search %q: want %d", q, n)
		}
		if body := e.okPage("/vendors?q=no+such+vendor+anywhere", sess); !strings.Contains(body, "No vendors match.") {
			t.Error("an empty search")
		}
		// Bad values are reported and dropped, not fatal.
		if body := e.okPage("/vendors?status=bogus&sort=shoe+size&page=x", sess); !strings.Contains(body, "Ignored: unknown status") ||
			!strings.Contains(body, fmt.Sprintf("of %d", total)) {
			t.Error("bad filter values")
		}
		e.checkLogs()
	})
}

func TestUIVendorPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		sess := e.session("viewer")
		d, err := e.svc.VendorDetail(ctx, "mixpanel")
		if err != nil {
			t.Fatal(err)
		}
		body := e.okPage("/vendors/mixpanel", sess)
		if !strings.Contains(body, "Not blocked") || len(d.Flows) == 0 {
			t.Errorf("block status or flows: %d flows", len(d.Flows))
		}
		for _, f := range d.Flows {
			if !strings.Contains(body, html.EscapeString(f.System+" → mixpanel")) {
				t.Errorf("no flow from %s", f.System)
			}
		}
		for _, c := range d.Categories {
			if !strings.Contains(body, "<code>"+c+"</code>") {
				t.Errorf("no category %s", c)
			}
		}
		for _, s := range d.Vendor.Subprocessors {
			if !strings.Contains(body, `href="/vendors/`+s+`"`) {
				t.Errorf("no subprocessor %s", s)
			}
		}
		// The diagram: a node per system that feeds the vendor, the vendor,
		// a linked node per subprocessor, an arrow per flow and link.
		if !strings.Contains(body, `<svg class="diagram" id="flow-diagram"`) || !strings.Contains(body, `role="img"`) ||
			!strings.Contains(body, `<title id="flow-diagram-title">Data flows of Mixpanel</title>`) {
			t.Errorf("no accessible diagram: %.2000s", body)
		}
		systems := map[string]bool{}
		for _, f := range d.Flows {
			systems[f.System] = true
		}
		if n := strings.Count(body, `<g class="node node-system">`); n != len(systems) {
			t.Errorf("%d system nodes, want %d", n, len(systems))
		}
		if n := strings.Count(body, `<g class="edge-flow">`); n != len(systems) {
			t.Errorf("%d flow arrows, want %d", n, len(systems))
		}
		if n := strings.Count(body, `<g class="node node-subprocessor"><a href="/vendors/`); n != len(d.Vendor.Subprocessors) || n == 0 {
			t.Errorf("%d linked subprocessor nodes, want %d", n, len(d.Vendor.Subprocessors))
		}
		// The ledger: nothing yet, then what the gateway recorded.
		if !strings.Contains(body, "No traffic to this vendor has passed through a gateway.") {
			t.Error("no empty ledger section")
		}
		at := e.clock.Now().UTC()
		if err := e.store.RecordLedger(ctx, []store.LedgerEntry{
			{Vendor: "mixpanel", Subject: "s1", Category: "user.unique_id.pseudonymous", FirstSeen: at, LastSeen: at, Messages: 3},
			{Vendor: "mixpanel", Subject: "s2", Category: "user.unique_id.pseudonymous", FirstSeen: at, LastSeen: at, Messages: 2},
		}, []store.ActionCount{{Vendor: "mixpanel", Action: "drop", Category: "user.contact.email", Count: 7}}); err != nil {
			t.Fatal(err)
		}
		body = e.okPage("/vendors/mixpanel", sess)
		for _, want := range []string{"2 people", "<code>user.unique_id.pseudonymous</code></th><td class=\"num\" data-label=\"People\">2</td><td class=\"num\" data-label=\"Messages\">5</td>", "drop 7"} {
			if !strings.Contains(body, want) {
				t.Errorf("ledger section lacks %q", want)
			}
		}
		if !strings.Contains(body, "No incidents recorded at this vendor.") {
			t.Error("no incidents section")
		}
		if _, err := e.svc.BlockVendor(ctx, "mixpanel", "breach <suspected>", "user:admin"); err != nil {
			t.Fatal(err)
		}
		body = e.okPage("/vendors/mixpanel", sess)
		if !strings.Contains(body, "<strong>Blocked</strong>") || !strings.Contains(body, "breach &lt;suspected&gt;") {
			t.Errorf("blocked: %.3000s", body)
		}
		res := e.page(pageReq{path: "/vendors/nope", cookie: sess})
		if res.status != 404 || !strings.Contains(res.body, "There is no such vendor.") {
			t.Errorf("unknown vendor: %d %.300s", res.status, res.body)
		}
		checkUIHeaders(t, "404", res)
		// An unknown address: a page for a browser, JSON for a program.
		res = e.page(pageReq{path: "/no/such/page", cookie: sess, header: map[string]string{"Accept": "text/html,application/xhtml+xml"}})
		if res.status != 404 || !strings.Contains(res.body, "There is no page at this address.") || !strings.Contains(res.body, `href="/dashboard"`) {
			t.Errorf("unknown page: %d %.300s", res.status, res.body)
		}
		checkUIHeaders(t, "404 page", res)
		if res := e.page(pageReq{path: "/no/such/page"}); res.status != 404 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			t.Errorf("unknown address without Accept: %d %q", res.status, res.header.Get("Content-Type"))
		}
		// The style sheet is served, embedded.
		css := e.page(pageReq{path: "/static/style.css"})
		if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, "@media") {
			t.Errorf("style sheet: %d %q", css.status, css.header.Get("Content-Type"))
		}
		if res := e.page(pageReq{path: "/static/nope.css"}); res.status != 404 {
			t.Errorf("missing asset: %d", res.status)
		}
		if res := e.page(pageReq{method: "DELETE", path: "/vendors", cookie: sess}); res.status != 405 || res.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("DELETE /vendors: %d %q", res.status, res.header.Get("Allow"))
		}
	})
}

// TestDocsUIRoutes: docs/api.md lists every UI route.
func TestDocsUIRoutes(t *testing.T) {
	b, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range web.UIRoutes() {
		path := strings.TrimSuffix(rt.Path, "{$}")
		if row := fmt.Sprintf("| %s | `%s` |", rt.Method, path); !strings.Contains(string(b), row) {
			t.Errorf("%s lacks the UI route %q", apiDoc, row)
		}
	}
}
