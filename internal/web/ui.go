package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// The web UI: server-rendered pages (html/template, which escapes every
// value by its context), with every template and asset embedded in the
// binary. The pages work without JavaScript.
//
// The UI has its own route table (uiRoutes), apart from the API's: its
// handlers write HTML, an anonymous visitor is sent to the login form
// instead of getting a 401, and its routes are not in the OpenAPI
// document. It uses the same permissions (internal/auth's, Public and
// Authenticated), the same check when the server is built (a UI route
// without a permission stops the server from starting), the same
// authentication (the session cookie) and the same CSRF protection
// (http.CrossOriginProtection on every state-changing request). The
// authorization test covers both tables.

//go:embed ui/templates/*.html ui/static/*
var uiFiles embed.FS

// uiCSP is the content security policy of the UI's pages: styles,
// scripts and images from this server only (no inline script or style),
// forms posting to it only, no framing.
const uiCSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// uiPageSize is the vendor list's default page size; ?limit= may ask for
// 1 to maxLimit.
const uiPageSize = 50

// UIRoute is one page or form target of the web UI.
type UIRoute struct {
	Method, Path string
	// Perm is the permission the visitor needs, as in Route.
	Perm    auth.Permission
	Summary string

	handler func(*Server, *uiCall)
}

// uiRoutes is the UI's route table.
var uiRoutes = []UIRoute{
	{Method: "GET", Path: "/static/{file}", Perm: Public, Summary: "The UI's embedded style sheet", handler: (*Server).uiStatic},
	{Method: "GET", Path: "/login", Perm: Public, Summary: "The login form", handler: (*Server).uiLoginForm},
	{Method: "POST", Path: "/login", Perm: Public, Summary: "Log in: sets the session cookie and goes to the page asked for", handler: (*Server).uiLogin},
	{Method: "GET", Path: "/auth/oidc/login", Perm: Public, Summary: "Single sign-on: off to the identity provider (oidc.go)", handler: (*Server).uiSSOLogin},
	{Method: "GET", Path: "/auth/oidc/callback", Perm: Public, Summary: "Single sign-on: back from the identity provider, a session and the page asked for", handler: (*Server).uiSSOCallback},
	{Method: "POST", Path: "/logout", Perm: Authenticated, Summary: "Log out: ends the session and clears its cookie", handler: (*Server).uiLogout},
	{Method: "GET", Path: "/account/password", Perm: Authenticated, Summary: "Change your password (ui_account.go)", handler: (*Server).uiPasswordForm},
	{Method: "POST", Path: "/account/password", Perm: Authenticated, Summary: "Change your password: every session of yours ends, a new one starts", handler: (*Server).uiChangePassword},
	{Method: "GET", Path: "/{$}", Perm: Authenticated, Summary: "Home: goes to the dashboard", handler: (*Server).uiHome},
	{Method: "GET", Path: "/dashboard", Perm: auth.InventoryRead, Summary: "Dashboard: vendors by category and status, sensitive flows, open incidents and their clocks, discovery drift, gateway activity", handler: (*Server).uiDashboard},
	{Method: "GET", Path: "/vendors", Perm: auth.InventoryRead, Summary: "Vendors: search, filter, sort and pages", handler: (*Server).uiVendors},
	{Method: "GET", Path: "/vendors/{id}", Perm: auth.InventoryRead, Summary: "A vendor: details, flows into it, subprocessors, block", handler: (*Server).uiVendor},
	// The incident room (ui_incidents.go).
	{Method: "GET", Path: "/incidents", Perm: auth.IncidentsRead, Summary: "Incidents: status, vendor, times and the next legal deadline; the form to open one for roles that may write", handler: (*Server).uiIncidents},
	{Method: "POST", Path: "/incidents", Perm: auth.IncidentsWrite, Summary: "Open an incident, then its room", handler: (*Server).uiOpenIncident},
	{Method: "GET", Path: "/incidents/{id}", Perm: auth.IncidentsRead, Summary: "The incident room: legal clocks, blast radius, containment, notification pack, timeline, actions", handler: (*Server).uiIncident},
	{Method: "POST", Path: "/incidents/{id}/update", Perm: auth.IncidentsWrite, Summary: "Change the fields the form changed, and add a note", handler: (*Server).uiUpdateIncident},
	{Method: "POST", Path: "/incidents/{id}/contain", Perm: auth.IncidentsWrite, Summary: "Block the vendors in every gateway; the room shows the checklist", handler: (*Server).uiContain},
	{Method: "POST", Path: "/incidents/{id}/notify", Perm: auth.IncidentsWrite, Summary: "Prepare the notification pack and record it", handler: (*Server).uiNotify},
	{Method: "POST", Path: "/incidents/{id}/close", Perm: auth.IncidentsWrite, Summary: "Close the incident", handler: (*Server).uiCloseIncident},
	{Method: "GET", Path: "/incidents/{id}/pack.zip", Perm: auth.IncidentsWrite, Summary: "The notification pack as a zip file (it holds the recipient list), once prepared", handler: (*Server).uiPackZip},
	{Method: "GET", Path: "/data", Perm: auth.InventoryRead, Summary: "Who has this data? The category tree with counts; for ?category= the vendors, paths and a diagram", handler: (*Server).uiData},
	{Method: "GET", Path: "/inventory", Perm: auth.InventoryRead, Summary: "Import and export: export links, and the upload form for roles that may write", handler: (*Server).uiInventory},
	{Method: "GET", Path: "/inventory/export", Perm: auth.InventoryRead, Summary: "The inventory as a download: ?format=yaml|json|csv|cyclonedx (&kind= for csv)", handler: (*Server).uiExport},
	{Method: "POST", Path: "/inventory/import", Perm: auth.InventoryWrite, Summary: "Upload inventory-as-code: shows the plan, changes nothing", handler: (*Server).uiImport},
	{Method: "POST", Path: "/inventory/apply", Perm: auth.InventoryWrite, Summary: "Apply the plan shown, unless the inventory changed since", handler: (*Server).uiApply},
}

// UIRoutes describes the UI's route table, for tests and documentation.
func UIRoutes() []UIRoute {
	out := slices.Clone(uiRoutes)
	for i := range out {
		out[i].handler = nil
	}
	return out
}

// checkUIRoutes refuses a UI table with a route that names no permission
// (or an unknown one), a duplicate, or no handler.
func checkUIRoutes(rs []UIRoute) error {
	var errs []error
	seen := map[string]bool{}
	for _, r := range rs {
		name := r.Method + " " + r.Path
		bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("UI "+name+": "+format, args...)) }
		if seen[name] {
			bad("listed twice")
		}
		seen[name] = true
		if p := permProblem(r.Perm); p != "" {
			bad("%s", p)
		}
		if r.Method != "GET" && r.Method != "POST" {
			bad("method %q: the UI's forms use GET and POST", r.Method)
		}
		if r.handler == nil || r.Summary == "" {
			bad("needs a handler and a summary")
		}
		if strings.HasPrefix(r.Path, "/api/") {
			bad("the UI stays out of /api/")
		}
	}
	return errors.Join(errs...)
}

// templates are the parsed pages, each with the layout.
var templates = func() map[string]*template.Template {
	pages, err := fs.Glob(uiFiles, "ui/templates/*.html")
	if err != nil {
		panic(err)
	}
	// Files whose names start with "_" are partials: every page has them.
	partials, err := fs.Glob(uiFiles, "ui/templates/_*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := path.Base(p)
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		files := append([]string{"ui/templates/layout.html"}, partials...)
		out[name] = template.Must(template.New(name).Funcs(uiFuncs).ParseFS(uiFiles, append(files, p)...))
	}
	return out
}()

var uiFuncs = template.FuncMap{
	"join":     strings.Join,
	"timeLeft": timeLeft,
	"add":      func(a, b int) int { return a + b },
}

// registerUI adds the UI's routes to the mux, and for each of their
// paths a 405 page for the other methods.
func (s *Server) registerUI(table []UIRoute) {
	methods := map[string][]string{}
	for i := range table {
		rt := &table[i]
		s.mux.Handle(rt.Method+" "+rt.Path, s.uiHandle(rt))
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	for p, ms := range methods {
		allow := strings.Join(ms, ", ")
		if slices.Contains(ms, "GET") {
			allow += ", HEAD"
		}
		s.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.uiError(w, r, nil, http.StatusMethodNotAllowed, "This page does not take "+r.Method+" requests.")
		})
	}
}

// uiCall is one request to a UI route.
type uiCall struct {
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context // with the audit actor
	route *UIRoute
	// p is who the visitor is (nil when anonymous); secret is its
	// session's secret, for logout.
	p      *service.Principal
	secret string
}

// uiHandle admits a request to a UI route: CSRF, then authentication
// (an anonymous visitor goes to the login form), then the permission (a
// 403 page).
func (s *Server) uiHandle(rt *UIRoute) http.Handler {
	pattern := rt.Method + " " + rt.Path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			rec.route = pattern
		}
		h := w.Header()
		if rt.Path != "/static/{file}" {
			h.Set("Content-Security-Policy", uiCSP)
		}
		c := &uiCall{w: w, r: r, ctx: r.Context(), route: rt}
		if err := s.csrf.Check(r); err != nil {
			s.uiError(w, r, nil, http.StatusForbidden, "Cross-site request refused: use this server's own pages.")
			return
		}
		p, secret, err := s.authenticate(r)
		if err != nil && !errors.Is(err, service.ErrUnauthenticated) && !isUnauthenticated(err) {
			s.uiFail(c, err)
			return
		}
		if err != nil && r.Header.Get("Authorization") == "" {
			clearCookie(w) // a stale cookie
		}
		if err == nil && p != nil {
			c.p, c.secret = p, secret
			c.ctx = audit.WithActor(r.Context(), p.Actor())
			if rec, ok := w.(*recorder); ok {
				rec.actor = p.Actor()
			}
		}
		if rt.Perm != Public {
			if c.p == nil {
				http.Redirect(w, r, "/login?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
				return
			}
			if oneTimeGate(pattern, c.p) != nil { // a one-time password: change it first (account.go)
				http.Redirect(w, r, passwordRedirect(r), http.StatusSeeOther)
				return
			}
			if rt.Perm != Authenticated && !c.p.Can(rt.Perm) {
				s.uiError(w, r, c.p, http.StatusForbidden, "Your role ("+string(c.p.User.Role)+") may not see this page.")
				return
			}
		}
		rt.handler(s, c)
	})
}

func isUnauthenticated(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.status == http.StatusUnauthorized
}

// page is what every page's layout needs.
type page struct {
	Title string
	// User is who is logged in ("" on the login page).
	User string
	Role auth.Role
	// Nav marks the current section.
	Nav string
}

func (c *uiCall) page(title, nav string) page {
	pg := page{Title: title, Nav: nav}
	if c.p != nil {
		pg.User, pg.Role = c.p.User.Name, c.p.User.Role
	}
	return pg
}

// render executes a page into a buffer first, so a template error is a
// clean 500 page rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	t := templates[name]
	if t == nil {
		s.log.Error("ui: no template", "name", name)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("ui: template", "name", name, "path", redactPath(r.URL.Path), "err", err.Error())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("internal server error; the server log has the details\n"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	page
	Status  int
	Heading string
	Message string
}

// uiError renders an error page.
func (s *Server) uiError(w http.ResponseWriter, r *http.Request, p *service.Principal, status int, msg string) {
	w.Header().Set("Content-Security-Policy", uiCSP)
	pg := page{Title: http.StatusText(status)}
	if p != nil {
		pg.User, pg.Role = p.User.Name, p.User.Role
	}
	s.render(w, r, status, "error.html", errorPage{page: pg, Status: status, Heading: http.StatusText(status), Message: msg})
}

// uiFail renders an error from the service layer: its status, and for
// an internal error a generic message (the log has the text).
func (s *Server) uiFail(c *uiCall, err error) {
	e, internal := toAPIError(err)
	if internal {
		s.log.Error("ui: request failed", "method", c.r.Method, "path", redactPath(c.r.URL.Path), "err", err.Error())
	}
	s.uiError(c.w, c.r, c.p, e.status, e.info.Message)
}

func (s *Server) uiStatic(c *uiCall) {
	name := c.r.PathValue("file")
	b, err := uiFiles.ReadFile("ui/static/" + name)
	if err != nil || strings.Contains(name, "/") {
		s.uiError(c.w, c.r, c.p, http.StatusNotFound, "No such file.")
		return
	}
	h := c.w.Header()
	switch path.Ext(name) {
	case ".css":
		h.Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
	default:
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = c.w.Write(b)
}

// safeNext is where to go after logging in: a path on this site only
// ("/vendors?q=x"), never another site ("//evil.example",
// "https://evil.example", "/\evil.example"); anything else is /dashboard.
func safeNext(next string) string {
	const home = "/dashboard"
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(u.Path, "//") || u.Path == "/login" {
		return home
	}
	return u.RequestURI()
}

type loginPage struct {
	page
	Next     string
	Username string
	Error    string
	// SSO shows the single sign-on button.
	SSO bool
}

func (s *Server) uiLoginForm(c *uiCall) {
	next := safeNext(c.r.URL.Query().Get("next"))
	s.render(c.w, c.r, http.StatusOK, "login.html", loginPage{page: page{Title: "Log in"}, Next: next, SSO: s.sso != nil})
}

// uiLogin checks the form. A failure re-renders the form with one
// message for every kind of wrong (401), or the rate limit's (429).
func (s *Server) uiLogin(c *uiCall) {
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxLoginBody)
	if err := c.r.ParseForm(); err != nil {
		s.uiError(c.w, c.r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	f := c.r.PostForm
	next := safeNext(f.Get("next"))
	lp := loginPage{page: page{Title: "Log in"}, Next: next, Username: f.Get("username"), SSO: s.sso != nil}
	if lp.Username == "" || f.Get("password") == "" {
		lp.Error = "Enter your user name and password."
		s.render(c.w, c.r, http.StatusBadRequest, "login.html", lp)
		return
	}
	_, err := s.startSession(c.ctx, c.w, c.r, lp.Username, f.Get("password"))
	if err != nil {
		var rl *service.RateLimitedError
		switch {
		case errors.As(err, &rl):
			c.w.Header().Set("Retry-After", retryAfterSeconds(rl.RetryAfter))
			lp.Error = "Too many attempts. Wait a while and try again."
			s.render(c.w, c.r, http.StatusTooManyRequests, "login.html", lp)
		case errors.Is(err, service.ErrBadCredentials):
			lp.Error = "Wrong user name or password."
			s.render(c.w, c.r, http.StatusUnauthorized, "login.html", lp)
		default:
			s.uiFail(c, err)
		}
		return
	}
	http.Redirect(c.w, c.r, next, http.StatusSeeOther)
}

func (s *Server) uiLogout(c *uiCall) {
	if c.p.Session != nil {
		if err := s.logins.Logout(c.ctx, c.secret); err != nil {
			s.uiFail(c, err)
			return
		}
		s.cache.clear()
	}
	clearCookie(c.w)
	http.Redirect(c.w, c.r, "/login", http.StatusSeeOther)
}

func (s *Server) uiHome(c *uiCall) {
	http.Redirect(c.w, c.r, "/dashboard", http.StatusSeeOther)
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

func options(values []string, selected, anyLabel string) []option {
	out := []option{{Value: "", Label: anyLabel, Selected: selected == ""}}
	for _, v := range values {
		out = append(out, option{Value: v, Label: v, Selected: v == selected})
	}
	return out
}

// column is a sortable column heading of the vendor list.
type column struct {
	Label string
	// Href sorts by the column (ascending, or descending when it is
	// already sorted ascending).
	Href string
	// Sort is "ascending", "descending" or "" (aria-sort).
	Sort string
}

type vendorsPage struct {
	page
	Q, Status, Category, Sort string
	Statuses, Categories      []option
	Sorts                     []option
	Columns                   []column
	Vendors                   []inventory.Vendor
	Total                     int64
	// From and To number the rows shown (1-based), Page and Pages the page.
	From, To, Page, Pages int
	Limit                 int
	// KeepLimit carries a ?limit= other than the default in the form.
	KeepLimit  bool
	Prev, Next string
	Problem    string
}

// uiVendors is the vendor list: search (q), filters (status, category),
// sort and pages, all in the store. Bad values in the query are shown,
// not fatal: the filter is dropped and the page says why.
func (s *Server) uiVendors(c *uiCall) {
	q := c.r.URL.Query()
	vp := vendorsPage{page: c.page("Vendors", "vendors"), Q: strings.TrimSpace(q.Get("q")), Limit: uiPageSize, Page: 1}
	var problems []string
	if v := q.Get("status"); v != "" {
		if slices.Contains(inventory.VendorStatuses, v) {
			vp.Status = v
		} else {
			problems = append(problems, "unknown status "+strconv.Quote(v))
		}
	}
	if v := q.Get("category"); v != "" {
		if slices.Contains(inventory.VendorCategories, v) {
			vp.Category = v
		} else {
			problems = append(problems, "unknown category "+strconv.Quote(v))
		}
	}
	if v := q.Get("sort"); v != "" {
		if key, _ := strings.CutPrefix(v, "-"); slices.Contains(store.VendorSorts, key) {
			vp.Sort = v
		} else {
			problems = append(problems, "unknown sort "+strconv.Quote(v))
		}
	}
	if v := q.Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= maxLimit {
			vp.Limit = n
		} else {
			problems = append(problems, fmt.Sprintf("limit %q: use 1 to %d", v, maxLimit))
		}
	}
	if v := q.Get("page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 {
			vp.Page = n
		} else {
			problems = append(problems, "page "+strconv.Quote(v))
		}
	}
	if len(problems) > 0 {
		vp.Problem = "Ignored: " + strings.Join(problems, "; ") + "."
	}
	f := store.VendorFilter{Status: vp.Status, Category: vp.Category, Text: vp.Q, Sort: vp.Sort,
		Limit: vp.Limit, Offset: (vp.Page - 1) * vp.Limit}
	total, err := s.svc.Store.CountVendors(c.ctx, f)
	if err != nil {
		s.uiFail(c, err)
		return
	}
	vp.Total = total
	vp.Pages = max(1, int((total+int64(vp.Limit)-1)/int64(vp.Limit)))
	if vp.Page > vp.Pages {
		vp.Page = vp.Pages
		f.Offset = (vp.Page - 1) * vp.Limit
	}
	vp.Vendors, err = s.svc.Store.ListVendors(c.ctx, f)
	if err != nil {
		s.uiFail(c, err)
		return
	}
	vp.KeepLimit = vp.Limit != uiPageSize
	if len(vp.Vendors) > 0 {
		vp.From, vp.To = f.Offset+1, f.Offset+len(vp.Vendors)
	}
	if vp.Page > 1 {
		vp.Prev = vp.href(map[string]string{"page": strconv.Itoa(vp.Page - 1)})
	}
	if vp.Page < vp.Pages {
		vp.Next = vp.href(map[string]string{"page": strconv.Itoa(vp.Page + 1)})
	}
	vp.Statuses = options(inventory.VendorStatuses, vp.Status, "any status")
	vp.Categories = options(inventory.VendorCategories, vp.Category, "any category")
	vp.Sorts = []option{{Value: "", Label: "id (default)", Selected: vp.Sort == ""}}
	for _, k := range store.VendorSorts {
		label := strings.ReplaceAll(k, "_", " ")
		vp.Sorts = append(vp.Sorts,
			option{Value: k, Label: label + ", ascending", Selected: vp.Sort == k},
			option{Value: "-" + k, Label: label + ", descending", Selected: vp.Sort == "-"+k})
	}
	vp.Sorts = slices.DeleteFunc(vp.Sorts, func(o option) bool { return o.Value == "id" })
	for _, col := range []struct{ label, key string }{
		{"Name", "name"}, {"Category", "category"}, {"Status", "status"}, {"Criticality", "criticality"}, {"Owner", "owner"},
	} {
		cl := column{Label: col.label}
		next := col.key
		switch vp.Sort {
		case col.key:
			cl.Sort, next = "ascending", "-"+col.key
		case "-" + col.key:
			cl.Sort = "descending"
		}
		cl.Href = vp.href(map[string]string{"sort": next, "page": ""})
		vp.Columns = append(vp.Columns, cl)
	}
	s.render(c.w, c.r, http.StatusOK, "vendors.html", vp)
}

// href is the vendor list's URL with the current search, filters, sort
// and page, changed by set ("" removes a key).
func (vp *vendorsPage) href(set map[string]string) string {
	v := url.Values{}
	put := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	put("q", vp.Q)
	put("status", vp.Status)
	put("category", vp.Category)
	put("sort", vp.Sort)
	if vp.Limit != uiPageSize {
		put("limit", strconv.Itoa(vp.Limit))
	}
	if vp.Page > 1 {
		put("page", strconv.Itoa(vp.Page))
	}
	for k, val := range set {
		v.Del(k)
		if k == "page" && val == "1" {
			continue
		}
		put(k, val)
	}
	if len(v) == 0 {
		return "/vendors"
	}
	return "/vendors?" + v.Encode()
}

type vendorPage struct {
	page
	service.VendorDetail
	Block *store.Block
	// Diagram is nil for a vendor with no flows and no subprocessors;
	// DiagramMore counts the systems and subprocessors left out of it.
	Diagram     *flowDiagram
	DiagramMore int
	// Ledger is what the gateway passed to the vendor (nil for a role
	// that may not read the ledger); Actions sums its policy's actions.
	Ledger  *store.LedgerSummary
	Actions []store.ActionTotal
	// Incidents at this vendor (nil for a role that may not read them).
	CanIncidents bool
	Incidents    []incident.Incident
}

func (s *Server) uiVendor(c *uiCall) {
	id := c.r.PathValue("id")
	d, err := s.svc.VendorDetail(c.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.uiError(c.w, c.r, c.p, http.StatusNotFound, "There is no such vendor.")
		return
	}
	if err != nil {
		s.uiFail(c, err)
		return
	}
	gates, err := s.svc.Store.Gates(c.ctx, []string{id})
	if err != nil {
		s.uiFail(c, err)
		return
	}
	title := d.Vendor.Name
	if title == "" {
		title = d.Vendor.ID
	}
	vp := vendorPage{page: c.page(title, "vendors"), VendorDetail: d, Block: gates[id].Block}
	if err := s.vendorExtras(c, &vp); err != nil {
		s.uiFail(c, err)
		return
	}
	s.render(c.w, c.r, http.StatusOK, "vendor.html", vp)
}

// maxDiagramSide bounds the boxes on each side of a vendor's diagram.
const maxDiagramSide = 30

// vendorExtras adds the diagram, and what the visitor's role may see of
// the ledger and the incidents, to a vendor page.
func (s *Server) vendorExtras(c *uiCall, vp *vendorPage) error {
	v := vp.Vendor
	bySystem := map[string][]string{}
	var systems []string
	for _, f := range vp.Flows {
		if _, ok := bySystem[f.System]; !ok {
			systems = append(systems, f.System)
		}
		bySystem[f.System] = append(bySystem[f.System], f.Categories...)
	}
	slices.Sort(systems)
	var left, right []flowSide
	for _, sys := range systems {
		cats := slices.Compact(slices.Sorted(slices.Values(bySystem[sys])))
		left = append(left, flowSide{Label: sys, Categories: cats})
	}
	for _, sub := range v.Subprocessors {
		right = append(right, flowSide{Label: sub, Href: "/vendors/" + sub})
	}
	if len(left)+len(right) > 0 {
		// A diagram of hundreds of boxes helps nobody: the first
		// maxDiagramSide on each side, and the tables have them all.
		if n := len(left) - maxDiagramSide; n > 0 {
			vp.DiagramMore += n
			left = left[:maxDiagramSide]
		}
		if n := len(right) - maxDiagramSide; n > 0 {
			vp.DiagramMore += n
			right = right[:maxDiagramSide]
		}
		d := vendorDiagram(vp.Title, left, right)
		vp.Diagram = &d
	}
	if c.p.Can(auth.LedgerRead) {
		sum, err := s.svc.Store.LedgerSummary(c.ctx, v.ID)
		if err != nil {
			return err
		}
		vp.Ledger = &sum
		totals := map[string]int64{}
		for _, a := range sum.Actions {
			totals[a.Action] += a.Count
		}
		for _, a := range slices.Sorted(maps.Keys(totals)) {
			vp.Actions = append(vp.Actions, store.ActionTotal{Vendor: v.ID, Action: a, Count: totals[a]})
		}
	}
	if vp.CanIncidents = c.p.Can(auth.IncidentsRead); vp.CanIncidents {
		ins, err := s.svc.Store.ListIncidents(c.ctx, store.IncidentFilter{Vendor: v.ID})
		if err != nil {
			return err
		}
		vp.Incidents = ins
	}
	return nil
}
