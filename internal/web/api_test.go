package web_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

const password = "violet lantern orbits quietly"

// login logs a user in with its password and returns the response.
func (e *env) login(name, pw string, header map[string]string) resp {
	e.t.Helper()
	return e.do(req{method: "POST", path: "/api/v1/login", body: web.LoginRequest{Username: name, Password: pw}, header: header})
}

func TestLoginLogout(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		if _, _, err := e.svc.AddUser(ctx, "ada", auth.RoleEditor, password); err != nil {
			t.Fatal(err)
		}
		res := e.login("Ada", password, nil)
		if res.status != 200 {
			t.Fatalf("login: %d %s", res.status, res.body)
		}
		var lr web.LoginResponse
		if err := json.Unmarshal(res.body, &lr); err != nil {
			t.Fatal(err)
		}
		e.secrets = append(e.secrets, lr.Secret)
		if !strings.HasPrefix(lr.Secret, auth.SessionPrefix) || lr.User.Name != "ada" || lr.Session.ID != lr.Secret[:14] {
			t.Errorf("login response: %s", res.body)
		}
		// The cookie: the session's secret, __Host- (Secure, Path=/, no
		// Domain), HttpOnly, SameSite=Lax, for the session's lifetime.
		cookies := (&http.Response{Header: res.header}).Cookies()
		if len(cookies) != 1 {
			t.Fatalf("cookies: %v", res.header["Set-Cookie"])
		}
		c := cookies[0]
		if c.Name != "__Host-weaklink_session" || c.Value != lr.Secret || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
			c.Path != "/" || c.Domain != "" || c.MaxAge != int((7*24*time.Hour).Seconds()) {
			t.Errorf("cookie: %s", res.header.Get("Set-Cookie"))
		}
		// The cookie and the secret as a bearer token both work.
		var me web.Me
		e.ok(req{method: "GET", path: "/api/v1/me", cookie: lr.Secret}, 200, &me)
		if me.User.Name != "ada" || me.Session == nil || me.Token != nil || !slices.Contains(me.Permissions, auth.InventoryWrite) ||
			slices.Contains(me.Permissions, auth.AuditRead) {
			t.Errorf("me: %+v", me)
		}
		e.ok(req{method: "GET", path: "/api/v1/me", bearer: lr.Secret}, 200, nil)

		// Logout ends the session and clears the cookie.
		res = e.ok(req{method: "POST", path: "/api/v1/logout", cookie: lr.Secret}, 204, nil)
		if sc := res.header.Get("Set-Cookie"); !strings.Contains(sc, "__Host-weaklink_session=;") || !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("logout's Set-Cookie: %q", sc)
		}
		res = e.do(req{method: "GET", path: "/api/v1/me", cookie: lr.Secret})
		if res.status != 401 || res.apiErr(t).Code != "unauthenticated" || res.header.Get("WWW-Authenticate") == "" {
			t.Errorf("after logout: %d %s", res.status, res.body)
		}
		// The audit log names the user as the API does.
		var sessionActors []string
		if err := e.store.ScanAudit(ctx, store.AuditFilter{Object: "session:" + lr.Session.ID}, func(en audit.Entry) error {
			sessionActors = append(sessionActors, en.Action+" "+en.Actor)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sessionActors, []string{"create user:ada", "delete user:ada"}) {
			t.Errorf("session audit: %v", sessionActors)
		}
		// Logout of an API token is refused: tokens are revoked.
		res = e.do(req{method: "POST", path: "/api/v1/logout", bearer: e.tokens["viewer"]})
		if res.status != 400 || res.apiErr(t).Code != "not_a_session" {
			t.Errorf("logout with a token: %d %s", res.status, res.body)
		}

		// Failures look alike whether or not the user exists.
		wrong := e.login("ada", "not the right passphrase at all", nil)
		nobody := e.login("nobody", password, nil)
		disabled := e.login("viewer", password, nil) // exists, has no password
		for _, r := range []resp{wrong, nobody, disabled} {
			if r.status != 401 || string(r.body) != string(wrong.body) || r.apiErr(t).Code != "bad_credentials" {
				t.Errorf("failed login: %d %s", r.status, r.body)
			}
		}
		// Bad input is a 400 before any password check.
		for body, field := range map[string]string{`{"username": "ada"}`: "password", `{"password": "x"}`: "username"} {
			r := e.do(req{method: "POST", path: "/api/v1/login", body: body})
			if r.status != 400 || r.apiErr(t).Field != field {
				t.Errorf("login %s: %d %s", body, r.status, r.body)
			}
		}
		e.checkLogs(password)
	})
}

func TestLoginRateLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		if _, _, err := e.svc.AddUser(ctx, "ada", auth.RoleViewer, password); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if r := e.login("ada", "guess number "+strconv.Itoa(i)+" is wrong", nil); r.status != 401 {
				t.Fatalf("guess %d: %d %s", i, r.status, r.body)
			}
		}
		// The sixth attempt is refused before the password is checked,
		// even the right one, with the time to wait.
		r := e.login("ada", password, nil)
		if r.status != 429 || r.apiErr(t).Code != "rate_limited" {
			t.Fatalf("sixth attempt: %d %s", r.status, r.body)
		}
		if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 890 || ra > 900 {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
		// Another user from the same client is not locked out.
		if _, _, err := e.svc.AddUser(ctx, "grace", auth.RoleViewer, password+" too"); err != nil {
			t.Fatal(err)
		}
		if r := e.login("grace", password+" too", nil); r.status != 200 {
			t.Errorf("another user: %d %s", r.status, r.body)
		}
		// The window slides: 15 minutes later ada may try again.
		e.advance(15 * time.Minute)
		if r := e.login("ada", password, nil); r.status != 200 {
			t.Errorf("after the window: %d %s", r.status, r.body)
		}
		metrics := e.ok(req{method: "GET", path: "/metrics", bearer: e.tokens["viewer"]}, 200, nil)
		if !strings.Contains(string(metrics.body), `weaklink_http_logins_total{result="rate_limited"} 1`) {
			t.Errorf("metrics lack the refused login:\n%s", grep(string(metrics.body), "logins"))
		}
	})
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestSessionExpiry(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		// Idle: 8 hours without a request end a session.
		s := e.session("viewer")
		e.ok(req{method: "GET", path: "/api/v1/me", cookie: s}, 200, nil)
		e.advance(8*time.Hour - time.Second)
		e.ok(req{method: "GET", path: "/api/v1/me", cookie: s}, 200, nil) // and touches it
		e.advance(8*time.Hour - time.Second)
		e.ok(req{method: "GET", path: "/api/v1/me", cookie: s}, 200, nil)
		e.advance(8 * time.Hour)
		if r := e.do(req{method: "GET", path: "/api/v1/me", cookie: s}); r.status != 401 {
			t.Errorf("idle session: %d %s", r.status, r.body)
		} else if !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("a dead cookie is not cleared: %q", r.header.Get("Set-Cookie"))
		}
		// Absolute: a week after login, however active.
		s = e.session("viewer")
		for range 7*24/6 - 1 {
			e.advance(6 * time.Hour)
			e.ok(req{method: "GET", path: "/api/v1/vendors", cookie: s}, 200, nil)
		}
		e.advance(6 * time.Hour)
		if r := e.do(req{method: "GET", path: "/api/v1/vendors", cookie: s}); r.status != 401 {
			t.Errorf("a week-old session: %d %s", r.status, r.body)
		}
		e.checkLogs()
	})
}

func TestTokenExpiryAndRevocation(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		admin := e.tokens["admin"]
		var tok service.TokenWithSecret
		e.ok(req{method: "POST", path: "/api/v1/tokens", bearer: admin, body: web.TokenCreate{User: "editor", Role: "viewer", Name: "ci", Expires: "1h"}}, 201, &tok)
		e.secrets = append(e.secrets, tok.Secret)
		if tok.Role != auth.RoleViewer || tok.User != "editor" || !tok.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
			t.Errorf("token: %+v", tok.Token)
		}
		var me web.Me
		e.ok(req{method: "GET", path: "/api/v1/me", bearer: tok.Secret}, 200, &me)
		if me.Token == nil || me.Token.ID != tok.ID || slices.Contains(me.Permissions, auth.InventoryWrite) {
			t.Errorf("me with a viewer token of an editor: %+v", me)
		}
		// A token beyond its user's role, a lifetime out of bounds.
		for body, field := range map[string]string{
			`{"user": "viewer", "role": "editor"}`: "",
			`{"user": "viewer", "expires": "2y"}`:  "expires",
			`{"user": "viewer", "role": "root"}`:   "role",
		} {
			r := e.do(req{method: "POST", path: "/api/v1/tokens", bearer: admin, body: body})
			if r.status != 400 || r.apiErr(t).Field != field {
				t.Errorf("%s: %d %s", body, r.status, r.body)
			}
		}
		e.advance(time.Hour)
		if r := e.do(req{method: "GET", path: "/api/v1/me", bearer: tok.Secret}); r.status != 401 {
			t.Errorf("expired token: %d %s", r.status, r.body)
		}

		// Revoked through the API: refused at once, cache or not.
		e.ok(req{method: "POST", path: "/api/v1/tokens", bearer: admin, body: `{"user": "viewer"}`}, 201, &tok)
		e.secrets = append(e.secrets, tok.Secret)
		e.ok(req{method: "GET", path: "/api/v1/vendors", bearer: tok.Secret}, 200, nil)
		e.ok(req{method: "DELETE", path: "/api/v1/tokens/" + tok.ID, bearer: admin}, 204, nil)
		if r := e.do(req{method: "GET", path: "/api/v1/vendors", bearer: tok.Secret}); r.status != 401 {
			t.Errorf("revoked token: %d %s", r.status, r.body)
		}
		if r := e.do(req{method: "DELETE", path: "/api/v1/tokens/" + tok.ID, bearer: admin}); r.status != 404 {
			t.Errorf("second revoke: %d %s", r.status, r.body)
		}
		var list []auth.Token
		e.ok(req{method: "GET", path: "/api/v1/tokens?user=viewer", bearer: admin}, 200, &list)
		if i := slices.IndexFunc(list, func(x auth.Token) bool { return x.ID == tok.ID }); i < 0 || list[i].RevokedAt == nil {
			t.Errorf("tokens list: %+v", list)
		}
		// Revoked elsewhere (the CLI, another server): refused once the
		// authentication cache (a second) has passed.
		e.ok(req{method: "POST", path: "/api/v1/tokens", bearer: admin, body: `{"user": "viewer"}`}, 201, &tok)
		e.secrets = append(e.secrets, tok.Secret)
		e.ok(req{method: "GET", path: "/api/v1/vendors", bearer: tok.Secret}, 200, nil)
		if err := e.svc.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		e.advance(time.Second)
		if r := e.do(req{method: "GET", path: "/api/v1/vendors", bearer: tok.Secret}); r.status != 401 {
			t.Errorf("token revoked by the CLI: %d %s", r.status, r.body)
		}
		// A disabled user's tokens are refused; enabled again, accepted.
		e.ok(req{method: "PATCH", path: "/api/v1/users/editor", bearer: admin, body: `{"disabled": true}`}, 200, nil)
		if r := e.do(req{method: "GET", path: "/api/v1/vendors", bearer: e.tokens["editor"]}); r.status != 401 {
			t.Errorf("disabled user's token: %d %s", r.status, r.body)
		}
		e.ok(req{method: "PATCH", path: "/api/v1/users/editor", bearer: admin, body: `{"disabled": false}`}, 200, nil)
		e.ok(req{method: "GET", path: "/api/v1/vendors", bearer: e.tokens["editor"]}, 200, nil)
		// Malformed credentials.
		for _, h := range []string{"Bearer wlt_short", "Basic YWRhOnB3", "Bearer " + flipLast(e.tokens["admin"])} {
			r := e.do(req{method: "GET", path: "/api/v1/vendors", header: map[string]string{"Authorization": h}})
			if r.status != 401 {
				t.Errorf("Authorization %.20s…: %d %s", h, r.status, r.body)
			}
		}
		e.checkLogs()
	})
}

func TestCrossOriginRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		s := e.session("editor")
		blocked := func() bool {
			g, err := e.store.Gates(ctx, []string{"mixpanel"})
			if err != nil {
				t.Fatal(err)
			}
			return g["mixpanel"].Block != nil
		}
		block := req{method: "POST", path: "/api/v1/vendors/mixpanel/block", cookie: s}
		for _, h := range []map[string]string{
			{"Sec-Fetch-Site": "cross-site"},
			{"Sec-Fetch-Site": "same-site"}, // a sibling subdomain is another origin
			{"Origin": "https://evil.example"},
		} {
			block.header = h
			r := e.do(block)
			if r.status != 403 || r.apiErr(t).Code != "cross_origin" {
				t.Errorf("cross-site POST %v with a valid cookie: %d %s", h, r.status, r.body)
			}
			if blocked() {
				t.Fatalf("a cross-site POST %v blocked the vendor", h)
			}
		}
		// A cross-site login (login CSRF) is refused too.
		if r := e.login("editor", "whatever it is here", map[string]string{"Sec-Fetch-Site": "cross-site"}); r.status != 403 {
			t.Errorf("cross-site login: %d %s", r.status, r.body)
		}
		// Reads are safe methods: allowed from anywhere the cookie goes.
		e.ok(req{method: "GET", path: "/api/v1/vendors/mixpanel", cookie: s, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 200, nil)
		// The same POST from the server's own page works.
		block.header = map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.ts.URL}
		e.ok(block, 200, nil)
		if !blocked() {
			t.Fatal("same-origin block did not block")
		}
		// A bearer token is not sent by browsers on their own: no CSRF
		// check, whatever the headers say.
		e.ok(req{method: "DELETE", path: "/api/v1/vendors/mixpanel/block", bearer: e.tokens["editor"],
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}}, 204, nil)
		if blocked() {
			t.Error("unblock with a bearer token did not unblock")
		}
		e.checkLogs()
	})
}

func TestHostileValuesAndHeaders(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		hostile := `<script>alert("x")</script><img src=x onerror=alert(1)> & ` + "\u202eevil"
		if _, err := e.svc.UpdateVendor(ctx, "mixpanel", func(v *inventory.Vendor) error {
			v.Name, v.Description = hostile, hostile+"\n\"quoted\""
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/v1/vendors/mixpanel", "/api/v1/vendors?q=mixpanel", "/api/v1/data/who-has?category=user.contact.email"} {
			res := e.ok(req{method: "GET", path: path, bearer: e.tokens["viewer"]}, 200, nil)
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s: Content-Type %q", path, ct)
			}
			if res.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: no nosniff", path)
			}
			// encoding/json escapes <, > and & as well: no markup in the
			// bytes even if something sniffs them.
			if strings.Contains(string(res.body), "<script>") {
				t.Errorf("%s: raw markup in the body", path)
			}
		}
		var d service.VendorDetail
		e.ok(req{method: "GET", path: "/api/v1/vendors/mixpanel", bearer: e.tokens["viewer"]}, 200, &d)
		if d.Vendor.Name != hostile || d.Vendor.Description != hostile+"\n\"quoted\"" {
			t.Errorf("the name came back changed: %q", d.Vendor.Name)
		}
		var who service.WhoHas
		e.ok(req{method: "GET", path: "/api/v1/data/who-has?category=user.contact.email", bearer: e.tokens["viewer"]}, 200, &who)
		if i := slices.IndexFunc(who.Holders, func(h service.Holder) bool { return h.Vendor == "mixpanel" }); i < 0 || who.Holders[i].Name != hostile {
			t.Errorf("who-has: %+v", who.Holders)
		}
		// Security headers on every kind of response.
		for _, r := range []req{
			{method: "GET", path: "/healthz"},
			{method: "GET", path: "/api/v1/openapi.json"},
			{method: "GET", path: "/api/v1/vendors"},
			{method: "GET", path: "/api/v1/vendors", bearer: e.tokens["viewer"]},
			{method: "GET", path: "/metrics", bearer: e.tokens["viewer"]},
			{method: "GET", path: "/nowhere"},
			{method: "PUT", path: "/api/v1/vendors", bearer: e.tokens["viewer"]},
			{method: "POST", path: "/api/v1/incidents", bearer: e.tokens["editor"], body: strings.Repeat("x", 2<<20)},
		} {
			res := e.do(r)
			h := res.header
			if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") ||
				!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
				h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("%s %s (%d): headers %v", r.method, r.path, res.status, h)
			}
		}
		e.checkLogs()
	})
}

func TestBadBodies(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		ed := e.tokens["editor"]
		before, err := e.store.AuditHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		valid := `"vendor": "mixpanel", "title": "t"`
		for _, tc := range []struct {
			name, body, ct string
			status         int
			code, field    string
		}{
			{"unknown field", `{` + valid + `, "titel": "x"}`, "", 400, "unknown_field", "titel"},
			{"wrong type", `{` + valid + `, "severity": 3}`, "", 400, "invalid_body", "severity"},
			{"bad time", `{` + valid + `, "window_from": "2025-11-09"}`, "", 400, "invalid_body", ""},
			{"unknown anchor", `{` + valid + `, "times": {"whenever": "2025-11-09T00:00:00Z"}}`, "", 400, "invalid", "times"},
			{"invalid category", `{` + valid + `, "categories": ["user.contact.emial"]}`, "", 400, "invalid", "categories[0]"},
			{"unknown vendor", `{"vendor": "nobody", "title": "t"}`, "", 400, "invalid", "vendor"},
			{"syntax", `{` + valid, "", 400, "invalid_body", ""},
			{"two values", `{` + valid + `} {}`, "", 400, "invalid_body", ""},
			{"not an object", `[]`, "", 400, "invalid_body", ""},
			{"empty", ``, "", 400, "invalid_body", ""},
			{"form", `vendor=mixpanel&title=t`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""},
			{"oversized", `{` + valid + `, "notes": "` + strings.Repeat("a", 1<<20) + `"}`, "", 413, "body_too_large", ""},
		} {
			r := req{method: "POST", path: "/api/v1/incidents", bearer: ed, body: tc.body}
			if tc.ct != "" {
				r.header = map[string]string{"Content-Type": tc.ct}
			}
			if tc.body == "" {
				r.body = nil
			}
			res := e.do(r)
			if res.status != tc.status {
				t.Errorf("%s: %d, want %d: %s", tc.name, res.status, tc.status, res.body)
				continue
			}
			if ei := res.apiErr(t); ei.Code != tc.code || ei.Field != tc.field || ei.Message == "" {
				t.Errorf("%s: %s", tc.name, res.body)
			}
		}
		// Query parameters are checked too.
		for path, field := range map[string]string{
			"/api/v1/flows?categroy=user":                 "categroy",
			"/api/v1/flows?category=user.contact.emial":   "category",
			"/api/v1/vendors?status=live":                 "status",
			"/api/v1/vendors?limit=0":                     "limit",
			"/api/v1/vendors?limit=abc":                   "limit",
			"/api/v1/vendors?status=active&status=active": "status",
			"/api/v1/data/who-has":                        "category",
		} {
			res := e.do(req{method: "GET", path: path, bearer: ed})
			if res.status != 400 || res.apiErr(t).Field != field {
				t.Errorf("%s: %d %s", path, res.status, res.body)
			}
		}
		res := e.do(req{method: "GET", path: "/api/v1/flows?category=user.contact.emial", bearer: ed})
		if !strings.Contains(string(res.body), `did you mean \"user.contact.email\"`) {
			t.Errorf("no suggestion: %s", res.body)
		}
		// Nothing changed.
		var list []incident.Incident
		e.ok(req{method: "GET", path: "/api/v1/incidents", bearer: ed}, 200, &list)
		after, _ := e.store.AuditHead(ctx)
		if len(list) != 0 || after != before {
			t.Errorf("refused requests changed something: %d incidents, audit head %v → %v", len(list), before, after)
		}
		e.checkLogs()
	})
}

func TestInventoryAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		v := e.tokens["viewer"]
		var flows []inventory.Flow
		e.ok(req{method: "GET", path: "/api/v1/flows?vendor=mixpanel", bearer: v}, 200, &flows)
		if len(flows) != 4 || flows[0].Vendor != "mixpanel" {
			t.Errorf("mixpanel's flows: %d", len(flows))
		}
		e.ok(req{method: "GET", path: "/api/v1/flows?category=user.contact.email&system=platform-dashboard&source=declared", bearer: v}, 200, &flows)
		if !slices.ContainsFunc(flows, func(f inventory.Flow) bool { return f.ID == "platform-dashboard.mixpanel" }) {
			t.Errorf("flows carrying emails from the dashboard: %v", flows)
		}
		// Pagination: X-Total-Count, Link to the next page, pages that
		// add up to the whole list.
		var all []inventory.Vendor
		e.ok(req{method: "GET", path: "/api/v1/vendors?limit=1000", bearer: v}, 200, &all)
		var paged []inventory.Vendor
		next := "/api/v1/vendors?limit=10&sort=-name"
		for pages := 0; next != ""; pages++ {
			var page []inventory.Vendor
			res := e.ok(req{method: "GET", path: next, bearer: v}, 200, &page)
			if res.header.Get("X-Total-Count") != strconv.Itoa(len(all)) || pages > 10 {
				t.Fatalf("X-Total-Count %q, %d pages", res.header.Get("X-Total-Count"), pages)
			}
			paged = append(paged, page...)
			next = ""
			if l := res.header.Get("Link"); l != "" {
				next = strings.TrimSuffix(strings.TrimPrefix(l, "<"), `>; rel="next"`)
			}
		}
		if len(paged) != len(all) || len(all) != 32 {
			t.Errorf("%d vendors by pages, %d at once", len(paged), len(all))
		}
		for i := 1; i < len(paged); i++ {
			if strings.ToLower(paged[i-1].Name) < strings.ToLower(paged[i].Name) {
				t.Errorf("not sorted by -name: %q before %q", paged[i-1].Name, paged[i].Name)
			}
		}
		var analytics []inventory.Vendor
		e.ok(req{method: "GET", path: "/api/v1/vendors?category=analytics&status=active&q=MIX", bearer: v}, 200, &analytics)
		if len(analytics) != 1 || analytics[0].ID != "mixpanel" {
			t.Errorf("filtered vendors: %v", analytics)
		}
		var systems []inventory.System
		e.ok(req{method: "GET", path: "/api/v1/systems", bearer: v}, 200, &systems)
		if len(systems) != 13 {
			t.Errorf("%d systems", len(systems))
		}
		if r := e.do(req{method: "GET", path: "/api/v1/vendors/nobody", bearer: v}); r.status != 404 || r.apiErr(t).Code != "not_found" {
			t.Errorf("unknown vendor: %d %s", r.status, r.body)
		}

		// Block through the API: the gateways' Gates see it, and the audit
		// log names the user.
		s := e.session("editor")
		var b store.Block
		e.ok(req{method: "POST", path: "/api/v1/vendors/mixpanel/block", cookie: s, body: web.BlockRequest{Reason: "vendor breach"}}, 200, &b)
		gates, err := e.store.Gates(ctx, []string{"mixpanel"})
		if err != nil {
			t.Fatal(err)
		}
		if g := gates["mixpanel"]; g.Block == nil || g.Block.Reason != "vendor breach" || g.Block.BlockedBy != "user:editor" || b.BlockedBy != "user:editor" {
			t.Errorf("gate after block: %+v", g.Block)
		}
		e.ok(req{method: "DELETE", path: "/api/v1/vendors/mixpanel/block", bearer: e.tokens["admin"]}, 204, nil)
		if r := e.do(req{method: "DELETE", path: "/api/v1/vendors/mixpanel/block", bearer: e.tokens["admin"]}); r.status != 404 {
			t.Errorf("second unblock: %d", r.status)
		}
		if gates, _ = e.store.Gates(ctx, []string{"mixpanel"}); gates["mixpanel"].Block != nil {
			t.Error("still blocked")
		}
		var entries []audit.Entry
		e.ok(req{method: "GET", path: "/api/v1/audit?object=vendor:mixpanel", bearer: e.tokens["auditor"]}, 200, &entries)
		var actors []string
		for _, en := range entries {
			if en.Action == "block" || en.Action == "unblock" {
				actors = append(actors, en.Action+" "+en.Actor)
			}
		}
		if !slices.Equal(actors, []string{"block user:editor", "unblock token:" + e.tokens["admin"][:14]}) {
			t.Errorf("audit actors: %v", actors)
		}
		// The ledger summary.
		at := time.Date(2025, 11, 5, 12, 0, 0, 0, time.UTC)
		if err := e.store.RecordLedger(ctx, []store.LedgerEntry{
			{Vendor: "mixpanel", Subject: "h1", Category: "user.contact.email", FirstSeen: at, LastSeen: at, Messages: 3},
		}, nil); err != nil {
			t.Fatal(err)
		}
		var sum store.LedgerSummary
		e.ok(req{method: "GET", path: "/api/v1/ledger/mixpanel", bearer: v}, 200, &sum)
		if sum.Subjects != 1 || sum.Categories[0].Messages != 3 {
			t.Errorf("ledger: %+v", sum)
		}
		e.checkLogs()
	})
}

func TestIncidentAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		ed := e.tokens["editor"]
		at := time.Date(2025, 11, 5, 12, 0, 0, 0, time.UTC)
		if err := e.store.RecordLedger(ctx, []store.LedgerEntry{
			{Vendor: "mixpanel", Subject: "u1", Category: "user.contact.email", FirstSeen: at, LastSeen: at, Messages: 3},
			{Vendor: "mixpanel", Subject: "u2", Category: "user.contact.email", FirstSeen: at, LastSeen: at, Messages: 1},
			{Vendor: "mixpanel", Subject: "u2", Category: "user.name", FirstSeen: at, LastSeen: at, Messages: 1},
		}, nil); err != nil {
			t.Fatal(err)
		}
		if err := e.store.PutResidence(ctx, []store.Residence{{Subject: "u1", Jurisdiction: "DE"}, {Subject: "u2", Jurisdiction: "US-CA"}}); err != nil {
			t.Fatal(err)
		}
		var in incident.Incident
		res := e.ok(req{method: "POST", path: "/api/v1/incidents", bearer: ed, body: web.IncidentInput{
			Vendor: "mixpanel", Title: "Mixpanel: dataset exported", Categories: []string{"user.contact.email", "user.name"},
			ContractNoticeHours: 48,
			Times: map[incident.Anchor]time.Time{
				incident.AnchorVendorDiscovered: time.Date(2025, 11, 9, 0, 0, 0, 0, time.UTC),
				incident.AnchorAware:            time.Date(2025, 11, 25, 18, 0, 0, 0, time.FixedZone("EST", -5*3600)),
			},
		}}, 201, &in)
		if res.header.Get("Location") != "/api/v1/incidents/"+in.ID || in.Status != incident.StatusTriage || in.Severity != "high" || in.Revision != 1 {
			t.Errorf("opened: %s", res.body)
		}
		if !in.Times[incident.AnchorAware].Equal(time.Date(2025, 11, 25, 23, 0, 0, 0, time.UTC)) || in.Times[incident.AnchorAware].Location() != time.UTC {
			t.Errorf("aware: %v", in.Times[incident.AnchorAware])
		}
		var b incident.BlastRadius
		e.ok(req{method: "GET", path: "/api/v1/incidents/" + in.ID[:8] + "/blast-radius", bearer: e.tokens["viewer"]}, 200, &b)
		if b.Breached != "mixpanel" || b.Subjects != 2 || b.ByJurisdiction["DE"] != 1 || b.ByJurisdiction["US-CA"] != 1 ||
			!slices.Contains(b.Exposed, "user.contact.email") {
			t.Errorf("blast radius: %+v", b)
		}
		var clocks service.ClockReport
		e.ok(req{method: "GET", path: "/api/v1/incidents/" + in.ID + "/clocks", bearer: e.tokens["auditor"]}, 200, &clocks)
		if clocks.Exposure.Subjects != 2 || len(clocks.Duties) == 0 {
			t.Errorf("clocks: %+v", clocks.Exposure)
		}
		// A merge patch: values set, null clears, the note goes on the
		// timeline.
		e.ok(req{method: "PATCH", path: "/api/v1/incidents/" + in.ID, bearer: ed,
			body: `{"status": "investigating", "high_risk": true, "owner": "privacy", "note": "called the vendor"}`}, 200, &in)
		if in.Status != incident.StatusInvestigating || in.HighRisk == nil || !*in.HighRisk || in.Owner != "privacy" || in.Revision != 2 {
			t.Errorf("patched: %+v", in)
		}
		id := in.ID
		in = incident.Incident{} // omitted fields must not keep old values
		e.ok(req{method: "PATCH", path: "/api/v1/incidents/" + id, bearer: ed,
			body: `{"high_risk": null, "owner": null, "times": {"aware": null}}`}, 200, &in)
		if in.HighRisk != nil || in.Owner != "" || in.Times[incident.AnchorAware] != (time.Time{}) || in.Revision != 3 {
			t.Errorf("cleared: %+v", in)
		}
		for body, field := range map[string]string{`{"title": null}`: "title", `{"status": "done"}`: "status", `{"high_risk": "yes"}`: "high_risk"} {
			if r := e.do(req{method: "PATCH", path: "/api/v1/incidents/" + in.ID, bearer: ed, body: body}); r.status != 400 || r.apiErr(t).Field != field {
				t.Errorf("patch %s: %d %s", body, r.status, r.body)
			}
		}
		if r := e.do(req{method: "PATCH", path: "/api/v1/incidents/0000", bearer: ed, body: `{"owner": "x"}`}); r.status != 404 {
			t.Errorf("patch of nothing: %d %s", r.status, r.body)
		}
		// Contain: the kill switch and the checklist.
		var c service.Containment
		e.ok(req{method: "POST", path: "/api/v1/incidents/" + in.ID + "/contain", bearer: ed, body: web.ContainRequest{Reason: "breach"}}, 200, &c)
		if !slices.Equal(c.Blocked, []string{"mixpanel"}) || len(c.Disable) == 0 || len(c.Questions) == 0 {
			t.Errorf("containment: %+v", c)
		}
		gates, _ := e.store.Gates(ctx, []string{"mixpanel"})
		if g := gates["mixpanel"].Block; g == nil || g.BlockedBy != "token:"+ed[:14] {
			t.Errorf("gate after contain: %+v", g)
		}
		var view service.IncidentView
		e.ok(req{method: "GET", path: "/api/v1/incidents/" + in.ID, bearer: e.tokens["viewer"]}, 200, &view)
		var kinds []string
		for _, ev := range view.Timeline {
			kinds = append(kinds, ev.Kind)
			if ev.Actor != "token:"+ed[:14] {
				t.Errorf("timeline actor %q", ev.Actor)
			}
		}
		if view.Status != incident.StatusContained || !slices.Equal(kinds, []string{"opened", "note", "updated", "updated", "contained", "status"}) {
			t.Errorf("incident after contain: %s, timeline %v", view.Status, kinds)
		}
		var list []incident.Incident
		e.ok(req{method: "GET", path: "/api/v1/incidents?status=contained&open=true&vendor=mixpanel", bearer: e.tokens["viewer"]}, 200, &list)
		if len(list) != 1 {
			t.Errorf("listed: %d", len(list))
		}
		// Closing through a patch.
		e.ok(req{method: "PATCH", path: "/api/v1/incidents/" + in.ID, bearer: ed, body: `{"status": "closed"}`}, 200, &in)
		if _, ok := in.Times[incident.AnchorClosed]; !ok {
			t.Errorf("closed without a time: %+v", in.Times)
		}
		e.ok(req{method: "GET", path: "/api/v1/incidents?open=true", bearer: e.tokens["viewer"]}, 200, &list)
		if len(list) != 0 {
			t.Errorf("open incidents after close: %d", len(list))
		}
		// The audit log: entries as the API user, pages by sequence, intact.
		var entries []audit.Entry
		res = e.ok(req{method: "GET", path: "/api/v1/audit?object=incident:" + in.ID + "&limit=2", bearer: e.tokens["auditor"]}, 200, &entries)
		if len(entries) != 2 || entries[0].Actor != "token:"+ed[:14] || !strings.Contains(res.header.Get("Link"), "from=") {
			t.Errorf("audit page: %d entries, Link %q", len(entries), res.header.Get("Link"))
		}
		var rep service.AuditReport
		e.ok(req{method: "GET", path: "/api/v1/audit/verify", bearer: e.tokens["auditor"]}, 200, &rep)
		if !rep.OK || rep.Entries == 0 {
			t.Errorf("verify: %+v", rep)
		}
		e.checkLogs()
	})
}

func TestUsersAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		admin := e.tokens["admin"]
		var u service.UserWithPassword
		e.ok(req{method: "POST", path: "/api/v1/users", bearer: admin, body: web.UserCreate{Name: "Grace", Role: auth.RoleAuditor}}, 201, &u)
		if u.Name != "grace" || u.Role != auth.RoleAuditor || len(u.Password) < 20 {
			t.Errorf("created: %+v", u.User)
		}
		e.secrets = append(e.secrets, u.Password)
		// The one-time password logs in.
		if r := e.login("grace", u.Password, nil); r.status != 200 {
			t.Errorf("login with the one-time password: %d %s", r.status, r.body)
		}
		for body, want := range map[string]string{
			`{"name": "grace", "role": "viewer"}`:                     "409 conflict",
			`{"name": "-x", "role": "viewer"}`:                        "400 name",
			`{"name": "x", "role": "root"}`:                           "400 role",
			`{"name": "x", "role": "viewer", "password": "password"}`: "400 password",
		} {
			r := e.do(req{method: "POST", path: "/api/v1/users", bearer: admin, body: body})
			ei := r.apiErr(t)
			got := strconv.Itoa(r.status) + " " + ei.Field
			if r.status == 409 {
				got = "409 " + ei.Code
			}
			if got != want {
				t.Errorf("%s: %s, want %s: %s", body, got, want, r.body)
			}
		}
		var user auth.User
		e.ok(req{method: "PATCH", path: "/api/v1/users/grace", bearer: admin, body: `{"role": "viewer"}`}, 200, &user)
		if user.Role != auth.RoleViewer {
			t.Errorf("patched: %+v", user)
		}
		// The last admin cannot demote itself.
		if r := e.do(req{method: "PATCH", path: "/api/v1/users/admin", bearer: admin, body: `{"role": "viewer"}`}); r.status != 409 {
			t.Errorf("demoting the last admin: %d %s", r.status, r.body)
		}
		var users []auth.User
		e.ok(req{method: "GET", path: "/api/v1/users", bearer: admin}, 200, &users)
		if len(users) != 6 {
			t.Errorf("%d users", len(users))
		}
		e.ok(req{method: "DELETE", path: "/api/v1/users/grace", bearer: admin}, 204, nil)
		if r := e.do(req{method: "DELETE", path: "/api/v1/users/grace", bearer: admin}); r.status != 404 {
			t.Errorf("second delete: %d", r.status)
		}
		e.checkLogs()
	})
}

func TestHealthAndMetrics(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		var h web.Health
		e.ok(req{method: "GET", path: "/healthz"}, 200, &h)
		e.ok(req{method: "GET", path: "/readyz"}, 200, &h)
		if h.Status != "ok" {
			t.Errorf("readyz: %+v", h)
		}
		// /metrics on the API listener wants credentials; the separate
		// listener's handler does not.
		if r := e.do(req{method: "GET", path: "/metrics"}); r.status != 401 {
			t.Errorf("anonymous /metrics: %d", r.status)
		}
		m := e.ok(req{method: "GET", path: "/metrics", bearer: e.tokens["gateway"]}, 200, nil)
		if !strings.Contains(string(m.body), `weaklink_http_requests_total{code="200",route="GET /readyz"} 1`) {
			t.Errorf("metrics:\n%s", grep(string(m.body), "weaklink_http"))
		}
		for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
			rec := httptestRecorder(e.srv.MetricsHandler(), path)
			if rec.Code != 200 {
				t.Errorf("metrics listener %s: %d", path, rec.Code)
			}
		}
		// The database going away: not ready, without saying why.
		e.store.Close()
		var down web.Health
		r := e.do(req{method: "GET", path: "/readyz"})
		if err := json.Unmarshal(r.body, &down); err != nil || r.status != 503 || down.Status != "unavailable" {
			t.Errorf("readyz without a database: %d %s", r.status, r.body)
		}
		e.ok(req{method: "GET", path: "/healthz"}, 200, nil)
		// Other failures are a 500 that says nothing of the cause.
		r = e.do(req{method: "GET", path: "/api/v1/vendors", bearer: e.tokens["viewer"]})
		if r.status != 500 || r.apiErr(t).Code != "internal" || strings.Contains(string(r.body), "sql") || strings.Contains(string(r.body), "closed") {
			t.Errorf("a request without a database: %d %s", r.status, r.body)
		}
		if !strings.Contains(e.logs.String(), "request failed") {
			t.Error("the failure is not logged")
		}
	})
}

// TestPanicIsA500: a handler's panic becomes a plain 500; the stack goes
// to the log only.
func TestPanicIsA500(t *testing.T) {
	var logs syncBuffer
	srv, err := web.NewWithRoutes(web.Options{Service: service.New(nil), Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		append(web.RouteTable(), web.PanicRoute("boom: secret detail")))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptestRecorder(srv, "/panic")
	body := rec.Body.String()
	if rec.Code != 500 || strings.Contains(body, "boom") || strings.Contains(body, "goroutine") || !strings.Contains(body, `"code":"internal"`) ||
		rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("panic: %d %s", rec.Code, body)
	}
	if l := logs.String(); !strings.Contains(l, "boom: secret detail") || !strings.Contains(l, "goroutine") {
		t.Errorf("the panic is not logged: %s", l)
	}
}

// flipLast changes a secret's last character: a well-formed token that
// is no one's (or fails its checksum).
func flipLast(s string) string {
	c := byte('a')
	if s[len(s)-1] == 'a' {
		c = 'b'
	}
	return s[:len(s)-1] + string(c)
}
