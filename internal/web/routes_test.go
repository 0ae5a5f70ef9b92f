package web_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/web"
)

// TestRouteTableIsChecked: a route without a permission (or with an
// unknown one, or an undeclared path parameter) is refused when the
// server is built, so it cannot be served by mistake.
func TestRouteTableIsChecked(t *testing.T) {
	if err := web.CheckRoutes(web.RouteTable()); err != nil {
		t.Fatalf("the route table: %v", err)
	}
	svc := service.New(nil)
	for _, tc := range []struct {
		name string
		edit func(*web.Route)
		want string
	}{
		{"no permission", func(r *web.Route) { r.Perm = "" }, "no permission"},
		{"unknown permission", func(r *web.Route) { r.Perm = "vendors:read" }, `unknown permission "vendors:read"`},
		{"undeclared path parameter", func(r *web.Route) { r.Path += "/{other}" }, "path parameters [id other], declared [id]"},
		{"unknown schema", func(r *web.Route) { r.Response = "Nope" }, `unknown schema "Nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := web.RouteTable()
			i := slices.IndexFunc(table, func(r web.Route) bool { return r.Path == "/api/v1/vendors/{id}" && r.Method == "GET" })
			tc.edit(&table[i])
			err := web.CheckRoutes(table)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckRoutes = %v, want %q", err, tc.want)
			}
			if _, err := web.NewWithRoutes(web.Options{Service: svc}, table); err == nil {
				t.Error("the server was built from a bad table")
			}
		})
	}
	// Listed twice.
	table := append(web.RouteTable(), web.RouteTable()[0])
	if err := web.CheckRoutes(table); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("duplicate route: %v", err)
	}
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// fillPath puts sample values in a route's path parameters.
func fillPath(path string) string {
	return pathParam.ReplaceAllStringFunc(path, func(p string) string {
		switch p {
		case "{vendor}":
			return "mixpanel"
		case "{id}":
			if strings.HasPrefix(path, "/api/v1/tokens/") {
				return "wlt_aaaaaaaaaa"
			}
			if strings.HasPrefix(path, "/api/v1/vendors/") {
				return "segment"
			}
			return "00000000-0000-7000-8000-000000000000"
		case "{name}":
			return "nobody"
		}
		return "x"
	})
}

// intended is the access policy of every route, written out apart from
// the route table: changing who may call an endpoint takes an edit in
// both, and a route added to the table without a line here fails.
var intended = map[string]auth.Permission{
	"GET /healthz":                            web.Public,
	"GET /readyz":                             web.Public,
	"GET /api/v1/openapi.json":                web.Public,
	"POST /api/v1/login":                      web.Public,
	"GET /metrics":                            web.Authenticated,
	"POST /api/v1/logout":                     web.Authenticated,
	"GET /api/v1/me":                          web.Authenticated,
	"POST /api/v1/me/password":                web.Authenticated,
	"GET /api/v1/vendors":                     auth.InventoryRead,
	"GET /api/v1/vendors/{id}":                auth.InventoryRead,
	"GET /api/v1/systems":                     auth.InventoryRead,
	"GET /api/v1/flows":                       auth.InventoryRead,
	"GET /api/v1/systems/{id}":                auth.InventoryRead,
	"GET /api/v1/flows/{id}":                  auth.InventoryRead,
	"GET /api/v1/data/who-has":                auth.InventoryRead,
	"GET /api/v1/inventory":                   auth.InventoryRead,
	"POST /api/v1/inventory/plan":             auth.InventoryWrite,
	"POST /api/v1/inventory/apply":            auth.InventoryWrite,
	"POST /api/v1/vendors/{id}/block":         auth.InventoryWrite,
	"DELETE /api/v1/vendors/{id}/block":       auth.InventoryWrite,
	"GET /api/v1/ledger/{vendor}":             auth.LedgerRead,
	"GET /api/v1/gateway/gates":               auth.GatewayGates,
	"POST /api/v1/gateway/ledger":             auth.GatewayLedger,
	"POST /api/v1/gateway/observed":           auth.GatewayLedger,
	"GET /api/v1/incidents":                   auth.IncidentsRead,
	"GET /api/v1/incidents/{id}":              auth.IncidentsRead,
	"GET /api/v1/incidents/{id}/blast-radius": auth.IncidentsRead,
	"GET /api/v1/incidents/{id}/affected":     auth.IncidentsWrite,
	"GET /api/v1/incidents/{id}/clocks":       auth.IncidentsRead,
	"POST /api/v1/incidents":                  auth.IncidentsWrite,
	"PATCH /api/v1/incidents/{id}":            auth.IncidentsWrite,
	"POST /api/v1/incidents/{id}/contain":     auth.IncidentsWrite,
	"GET /api/v1/audit":                       auth.AuditRead,
	"GET /api/v1/audit/verify":                auth.AuditRead,
	"GET /api/v1/users":                       auth.UsersAdmin,
	"POST /api/v1/users":                      auth.UsersAdmin,
	"PATCH /api/v1/users/{name}":              auth.UsersAdmin,
	"DELETE /api/v1/users/{name}":             auth.UsersAdmin,
	"GET /api/v1/tokens":                      auth.UsersAdmin,
	"POST /api/v1/tokens":                     auth.UsersAdmin,
	"DELETE /api/v1/tokens/{id}":              auth.UsersAdmin,
}

// principal is who a matrix request is made as.
type principal struct {
	name   string
	role   auth.Role // the effective role; "" for anonymous
	bearer func(e *env) string
	cookie func(e *env) string
}

// TestAuthorizationMatrix calls every route of the table as every role
// (with an API token, with a bearer session and with a session cookie),
// as a narrowed token and anonymously, and checks that 401 and 403 come
// exactly when the table says so, and nothing fails with a 5xx.
func TestAuthorizationMatrix(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		e.user("boss", auth.RoleAdmin)
		narrowed := e.token("boss", auth.RoleViewer) // an admin's viewer token acts as a viewer
		principals := []principal{{name: "anonymous"}}
		for _, r := range auth.Roles {
			principals = append(principals,
				principal{name: "token:" + string(r), role: r, bearer: func(e *env) string { return e.tokens[r] }},
				principal{name: "session:" + string(r), role: r, bearer: func(e *env) string { return e.session(string(r)) }},
				principal{name: "cookie:" + string(r), role: r, cookie: func(e *env) string { return e.session(string(r)) }})
		}
		principals = append(principals, principal{name: "admin's viewer token", role: auth.RoleViewer, bearer: func(*env) string { return narrowed }})

		known := append(auth.Permissions(), web.Public, web.Authenticated)
		for _, rt := range web.Routes() {
			if !slices.Contains(known, rt.Perm) {
				t.Errorf("%s %s: no permission in the table (%q)", rt.Method, rt.Path, rt.Perm)
				continue
			}
			if want, ok := intended[rt.Method+" "+rt.Path]; !ok || want != rt.Perm {
				t.Errorf("%s %s: the table says %q, the intended policy (below) %q", rt.Method, rt.Path, rt.Perm, want)
			}
			for _, p := range principals {
				r := req{method: rt.Method, path: fillPath(rt.Path)}
				if rt.Request != "" {
					r.body = "{}"
				}
				if p.bearer != nil {
					r.bearer = p.bearer(e)
				}
				if p.cookie != nil {
					r.cookie = p.cookie(e)
				}
				res := e.do(r)
				var want int // 0: neither 401 nor 403
				switch {
				case rt.Perm == web.Public:
				case p.role == "":
					want = 401
				case rt.Perm == web.Authenticated:
				case !p.role.Can(rt.Perm):
					want = 403
				}
				name := fmt.Sprintf("%s %s as %s", rt.Method, rt.Path, p.name)
				switch {
				case res.status >= 500:
					t.Errorf("%s: %d %s", name, res.status, res.body)
				case want != 0 && res.status != want:
					t.Errorf("%s: %d, want %d: %s", name, res.status, want, res.body)
				case want == 0 && (res.status == 401 || res.status == 403):
					t.Errorf("%s: %d, want neither 401 nor 403: %s", name, res.status, res.body)
				case want == 403 && res.apiErr(t).Code != "forbidden":
					t.Errorf("%s: %s", name, res.body)
				}
			}
		}
		if n := len(web.Routes()); n != len(intended) {
			t.Errorf("%d routes, %d in the intended policy", n, len(intended))
		}
		e.checkLogs()
	})
}
