// Package web is weaklink's HTTP front door: the JSON API under /api/v1,
// health and metrics endpoints, and the web UI (ui.go: server-rendered
// pages with their own route table, under the same permissions). Handlers are
// short: they read the request, call internal/service, and write JSON in
// the same shapes as the CLI's --format json.
//
// One route table (routes.go) says which endpoints exist and who may call
// them; the mux, the authorization check and the OpenAPI document are all
// built from it. See docs/api.md.
package web

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/service"
)

// CookieName is the session cookie. The __Host- prefix makes browsers
// accept it only with Secure, Path=/ and no Domain: no subdomain can set
// or overwrite it.
const CookieName = "__Host-weaklink_session"

// DefaultMaxBody bounds request bodies.
const DefaultMaxBody = 1 << 20

// Options configure a Server.
type Options struct {
	Service *service.Service
	// Logins authenticates requests (nil: service.NewLogins with Now).
	Logins *service.Logins
	// Logger receives access logs and errors (nil: slog.Default()).
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Profile is the organization the incident clocks are computed for
	// (`serve --org`); Rules overrides the embedded notification rules.
	Profile incident.Profile
	Rules   *incident.Rules
	// MaxBody bounds request bodies (0: DefaultMaxBody).
	MaxBody int64
	// AuthCacheTTL is how long a verified session or token is trusted
	// without asking the database again (0: one second; negative: never).
	// A revocation made through this server takes effect at once; one
	// made elsewhere (the CLI, another server) within this time.
	AuthCacheTTL time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for the login rate limits and logs). Empty: the
	// connection's address is the client.
	TrustedProxies []netip.Prefix
	// Gatherers add metrics to /metrics (an in-process gateway's).
	Gatherers []prometheus.Gatherer
	// Version is reported in the OpenAPI document.
	Version string
	// IdleConns is how many idle database connections the server keeps
	// (0: 16; negative: leave the pool alone). database/sql keeps two by
	// default, so under concurrent requests it would close and reopen the
	// rest again and again, and a new SQLite connection parses the whole
	// schema (a PostgreSQL one does a TCP and authentication handshake):
	// that halved the throughput of concurrent GETs.
	IdleConns int
	// OIDC turns on single sign-on with an OpenID Connect provider (nil:
	// off). See oidc.go.
	OIDC *OIDC
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	svc        *service.Service
	logins     *service.Logins
	log        *slog.Logger
	now        func() time.Time
	opts       Options
	mux        *http.ServeMux
	csrf       *http.CrossOriginProtection
	cache      *principalCache
	metrics    *httpMetrics
	sso        *sso // nil without Options.OIDC
	clockCache clockCache
	holders    holderCache
	openapi    []byte
	// patterns are the mux patterns of the routes, in table order.
	patterns []string
}

// New builds a server from the route table. It refuses a table with a
// route that names no permission, among other mistakes (checkRoutes).
func New(o Options) (*Server, error) {
	return newServer(o, routes)
}

func newServer(o Options, table []Route) (*Server, error) {
	return newServerUI(o, table, uiRoutes)
}

func newServerUI(o Options, table []Route, ui []UIRoute) (*Server, error) {
	if err := checkRoutes(table); err != nil {
		return nil, fmt.Errorf("web: route table: %w", err)
	}
	if err := checkUIRoutes(ui); err != nil {
		return nil, fmt.Errorf("web: UI route table: %w", err)
	}
	if o.Service == nil {
		return nil, errors.New("web: Options.Service is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logins == nil {
		o.Logins = service.NewLogins(o.Service.Store, o.Now)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.AuthCacheTTL == 0 {
		o.AuthCacheTTL = time.Second
	}
	if o.IdleConns == 0 {
		o.IdleConns = 16
	}
	if db, ok := o.Service.Store.(interface{ SQL() *sql.DB }); ok && o.IdleConns > 0 {
		db.SQL().SetMaxIdleConns(o.IdleConns)
	}
	sso, err := newSSO(o.OIDC, o.Logger, o.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{
		svc: o.Service, logins: o.Logins, log: o.Logger, now: o.Now, opts: o,
		mux:     http.NewServeMux(),
		csrf:    http.NewCrossOriginProtection(),
		cache:   newPrincipalCache(o.AuthCacheTTL, o.Now),
		metrics: newHTTPMetrics(o.Gatherers),
		sso:     sso,
	}
	methods := map[string][]string{}
	for i := range table {
		rt := &table[i]
		s.mux.Handle(rt.Method+" "+rt.Path, s.handle(rt))
		s.patterns = append(s.patterns, rt.Method+" "+rt.Path)
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	s.registerUI(ui)
	// A known path with another method: 405 with Allow, as JSON.
	for path, ms := range methods {
		allow := strings.Join(ms, ", ")
		if slices.Contains(ms, "GET") {
			allow += ", HEAD"
		}
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.writeError(w, r, newError(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed here: use %s", r.Method, allow))
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") && acceptsHTML(r) {
			p, _, err := s.authenticate(r) // for the menu, when logged in
			if err != nil {
				p = nil
			}
			s.uiError(w, r, p, http.StatusNotFound, "There is no page at this address. The dashboard and the menu above lead to everything weaklink shows.")
			return
		}
		s.writeError(w, r, newError(http.StatusNotFound, "not_found", "no such endpoint; the API is described at /api/v1/openapi.json"))
	})
	doc, err := json.Marshal(openAPIDocument(table, o.Version))
	if err != nil {
		return nil, fmt.Errorf("web: OpenAPI document: %w", err)
	}
	s.openapi = doc
	return s, nil
}

// call is one request to a route, as the handlers see it.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context // with the audit actor
	route *Route
	// p is who the request acts as (nil for public routes); secret is
	// the credential it came with, for logout.
	p      *service.Principal
	secret string
	// status overrides the route's success status.
	status int
	query  url.Values
}

// ServeHTTP serves a request: security headers, the route, an access log
// line and metrics. A panic in a handler becomes a 500 without details.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	setSecurityHeaders(rec.Header(), r)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("http: panic", "method", r.Method, "path", redactPath(r.URL.Path), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rec.wrote {
				s.writeError(rec, r, newError(http.StatusInternalServerError, "internal", "internal server error; the server log has the details"))
			}
		}
		d := time.Since(start)
		route := rec.route
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(route, rec.status(), d)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http",
			slog.String("method", r.Method),
			slog.String("path", redactPath(r.URL.Path)),
			slog.String("route", route),
			slog.Int("status", rec.status()),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("ms", float64(d.Microseconds())/1000),
			slog.String("client", s.clientIP(r)),
			slog.String("actor", rec.actor))
	}()
	s.mux.ServeHTTP(rec, r)
}

// setSecurityHeaders sets what every response carries. The API serves
// JSON only, so its content security policy allows nothing; the UI sets
// its own policy for its pages (uiCSP).
func setSecurityHeaders(h http.Header, r *http.Request) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// handle wraps a route's handler: admission (CSRF, authentication,
// authorization), query parameter checks, the handler, and its JSON.
func (s *Server) handle(rt *Route) http.Handler {
	pattern := rt.Method + " " + rt.Path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, _ := w.(*recorder)
		if rec != nil {
			rec.route = pattern
		}
		c := &call{w: w, r: r, ctx: r.Context(), route: rt}
		if err := s.admit(c); err != nil {
			s.writeError(w, r, err)
			return
		}
		c.query = r.URL.Query()
		if err := checkQuery(rt, c.query); err != nil {
			s.writeError(w, r, err)
			return
		}
		if rt.raw != nil {
			rt.raw(s, c)
			return
		}
		v, err := rt.json(s, c)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		status := rt.Status
		if c.status != 0 {
			status = c.status
		}
		if rt.Response == "" && status == 0 {
			status = http.StatusNoContent
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		if status == 0 {
			status = http.StatusOK
		}
		writeJSON(w, status, v)
	})
}

// admit decides whether a request may reach its route's handler.
//
// CSRF: a state-changing request that does not carry an Authorization
// header (a browser's, with the session cookie, or a login form) must pass
// http.CrossOriginProtection: Sec-Fetch-Site same-origin or none, or an
// Origin whose host is the request's. Requests with a bearer token are not
// authenticated by anything a browser adds on its own, so they skip it.
func (s *Server) admit(c *call) error {
	r := c.r
	bearer := r.Header.Get("Authorization") != ""
	if !bearer {
		if err := s.csrf.Check(r); err != nil {
			return newError(http.StatusForbidden, "cross_origin", "cross-origin request refused: send state-changing requests from this server's own pages, or with an Authorization header")
		}
	}
	if c.route.Perm == Public {
		return nil
	}
	p, secret, err := s.authenticate(r)
	if err != nil {
		if errors.Is(err, service.ErrUnauthenticated) && !bearer {
			clearCookie(c.w) // a stale cookie: the browser may as well forget it
		}
		return err
	}
	if p == nil {
		return errUnauthenticated
	}
	c.p, c.secret = p, secret
	if rec, ok := c.w.(*recorder); ok {
		rec.actor = p.Actor()
	}
	if err := oneTimeGate(c.route.Method+" "+c.route.Path, p); err != nil {
		return err // a one-time password: change it first (account.go)
	}
	if c.route.Perm != Authenticated && !p.Can(c.route.Perm) {
		return newError(http.StatusForbidden, "forbidden", "%s lacks the permission %s", p, c.route.Perm)
	}
	c.ctx = audit.WithActor(r.Context(), p.Actor())
	return nil
}

// authenticate finds the principal of a request: an Authorization: Bearer
// header (an API token or a session's secret), else the session cookie.
// No credentials at all is (nil, "", nil).
func (s *Server) authenticate(r *http.Request) (*service.Principal, string, error) {
	var secret string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, "", newError(http.StatusUnauthorized, "unauthenticated", "the Authorization header must be Bearer followed by an API token (wlt_…) or a session secret (wls_…)")
		}
		secret = strings.TrimSpace(cred)
	} else if ck, err := r.Cookie(CookieName); err == nil && ck.Value != "" {
		secret = ck.Value
		if !strings.HasPrefix(secret, auth.SessionPrefix) {
			return nil, "", errUnauthenticated // a cookie holds sessions only
		}
	} else {
		return nil, "", nil
	}
	p, err := s.cache.get(r.Context(), secret, s.logins.Authenticate)
	if err != nil {
		return nil, "", err
	}
	return p, secret, nil
}

// setSessionCookie hands a new session to the browser, for as long as
// the session lives.
func (s *Server) setSessionCookie(w http.ResponseWriter, x auth.Session, sec auth.Secret) {
	http.SetCookie(w, sessionCookie(sec.Reveal(), int(x.ExpiresAt.Sub(s.now()).Seconds())))
}

func sessionCookie(secret string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: secret, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

func clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, sessionCookie("", -1))
}

// writeError writes an error response and logs internal errors.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, internal := toAPIError(err)
	if internal {
		s.log.Error("http: request failed", "method", r.Method, "path", redactPath(r.URL.Path), "err", err.Error())
	}
	if e.status == http.StatusUnauthorized && e.info.Code == "unauthenticated" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="weaklink"`)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(e.retryAfter))
	}
	writeJSON(w, e.status, ErrorResponse{Error: e.info})
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON writes v as JSON: encoded first, so a value that cannot be
// encoded becomes a clean 500 rather than half a body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			bufPool.Put(buf)
		}
	}()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		_ = json.NewEncoder(buf).Encode(ErrorResponse{Error: ErrorInfo{Code: "internal", Message: "internal server error: the response could not be encoded"}})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// recorder notes what a handler wrote, for the access log and metrics.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
	wrote bool
	route string
	actor string
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.code, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// clientIP is the address the client connected from or, through a
// trusted proxy, the nearest untrusted address in X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		return host
	}
	addr := ap.Addr().Unmap()
	if !s.trusted(addr) {
		return addr.String()
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return addr.String() // a malformed hop: trust nothing beyond it
			}
			if a = a.Unmap(); !s.trusted(a) {
				return a.String()
			}
			addr = a
		}
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// redactPath shortens any path segment that holds a whole secret (a
// token pasted into DELETE /api/v1/tokens/{id}) to its ID, for logs. The
// path is the decoded URL.Path.
func redactPath(p string) string {
	if !strings.Contains(p, auth.TokenPrefix) && !strings.Contains(p, auth.SessionPrefix) {
		return p
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if (strings.HasPrefix(seg, auth.TokenPrefix) || strings.HasPrefix(seg, auth.SessionPrefix)) && len(seg) > 14 {
			segs[i] = seg[:14] + "…"
		}
	}
	return strings.Join(segs, "/")
}

// acceptsHTML tells a browser's request (Accept names text/html) from a
// program's, for the pages that answer both.
func acceptsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
