package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

// mine is the password a user chooses for themselves in these tests.
const mine = "seven quiet herons at dawn"

// passwordUser makes a user with a password that stays (an admin's
// choice, no change required), for tests of what a logged-in user does.
func (e *env) passwordUser(name string, r auth.Role, pw string) {
	e.t.Helper()
	if _, _, err := e.svc.AddUserWith(ctx, name, r, service.AdminPassword{Password: pw, NoChangeRequired: true}); err != nil {
		e.t.Fatal(err)
	}
}

// oneTimeUser makes a user with a generated, one-time password and
// returns it.
func (e *env) oneTimeUser(name string, r auth.Role) string {
	e.t.Helper()
	u, gen, err := e.svc.AddUser(ctx, name, r, "")
	if err != nil || gen == "" || !u.MustChangePassword {
		e.t.Fatalf("AddUser: %+v %v", u, err)
	}
	e.secrets = append(e.secrets, gen)
	return gen
}

// uiLogin logs in through the form and returns the session cookie.
func (e *env) uiLogin(name, pw, next string) (cookie, location string) {
	e.t.Helper()
	res := e.page(pageReq{method: "POST", path: "/login", form: url.Values{"username": {name}, "password": {pw}, "next": {next}}})
	cookie = sessionCookieOf(res.header)
	if res.status != 303 || cookie == "" {
		e.t.Fatalf("login as %s: %d %.300s", name, res.status, res.body)
	}
	e.secrets = append(e.secrets, cookie)
	return cookie, res.header.Get("Location")
}

// sessionCookieOf is the session cookie a response sets ("" if none).
func sessionCookieOf(h http.Header) string {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == web.CookieName && c.MaxAge > 0 {
			return c.Value
		}
	}
	return ""
}

func passwordRedirect(next string) string {
	return "/account/password?" + url.Values{"next": {next}}.Encode()
}

// TestUIOneTimePassword: a session with a generated password sees only
// the change form until it chooses its own; every refusal says why and
// changes nothing; success replaces the session and lifts the restriction.
func TestUIOneTimePassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		gen := e.oneTimeUser("ada", auth.RoleEditor)
		token := e.token("ada", auth.RoleEditor)
		cookie, loc := e.uiLogin("ada", gen, "/vendors/segment")
		if loc != "/vendors/segment" {
			t.Errorf("login goes to %q", loc)
		}

		// Every page but the form, logout and static files: the form.
		for _, p := range []string{"/vendors", "/vendors/segment", "/vendors?q=mix&status=active", "/"} {
			res := e.page(pageReq{path: p, cookie: cookie})
			if res.status != 303 || res.header.Get("Location") != passwordRedirect(p) {
				t.Errorf("GET %s: %d to %q, want 303 to %q", p, res.status, res.header.Get("Location"), passwordRedirect(p))
			}
		}
		if res := e.page(pageReq{path: "/static/style.css", cookie: cookie}); res.status != 200 {
			t.Errorf("static file: %d", res.status)
		}
		// The API: 403 password_change_required, for the cookie and for the
		// session's secret as a bearer token, but not for an API token.
		for _, r := range []req{{method: "GET", path: "/api/v1/vendors", cookie: cookie}, {method: "GET", path: "/api/v1/vendors", bearer: cookie},
			{method: "GET", path: "/metrics", cookie: cookie}, {method: "POST", path: "/api/v1/incidents", cookie: cookie, body: "{}"}} {
			res := e.do(r)
			if res.status != 403 || res.apiErr(t).Code != "password_change_required" || !strings.Contains(string(res.body), "POST /api/v1/me/password") {
				t.Errorf("%s %s: %d %s", r.method, r.path, res.status, res.body)
			}
		}
		e.ok(req{method: "GET", path: "/api/v1/vendors", bearer: token}, 200, nil)
		var me web.Me
		e.ok(req{method: "GET", path: "/api/v1/me", cookie: cookie}, 200, &me)
		if !me.User.MustChangePassword {
			t.Errorf("me: %+v", me.User)
		}

		// The form.
		form := e.okPage(passwordRedirect("/vendors/segment"), cookie)
		for _, want := range []string{`method="post" action="/account/password"`, `name="next" value="/vendors/segment"`,
			`<label for="current_password">`, `<label for="new_password">`, `<label for="confirm_password">`,
			`autocomplete="current-password"`, `autocomplete="new-password"`, "works once", `href="/static/account.css"`,
			`href="/account/password" aria-current="page"`} {
			if !strings.Contains(form, want) {
				t.Errorf("the form lacks %q", want)
			}
		}

		// Refusals: a message each, the form again, nothing changed.
		before, _ := e.store.GetUser(ctx, "ada")
		for _, tc := range []struct {
			name                 string
			current, new, repeat string
			status               int
			msg                  string
		}{
			{"no current password", "", mine, mine, 400, "Enter your current password."},
			{"no new password", gen, "", "", 400, "Enter a new password."},
			{"mismatch", gen, mine, mine + "!", 400, "The new passwords do not match: type the same one twice."},
			{"the same", gen, gen, gen, 400, "The new password is your current one: choose another."},
			{"too short", gen, "short one", "short one", 400, "New password refused: 9 characters; use at least 15"},
			{"common", gen, "Password123456789", "Password123456789", 400, "New password refused: it is one of the most common passwords."},
			{"wrong current password", "not my password at all", mine, mine, 400, "Your current password is wrong."},
		} {
			res := e.page(pageReq{method: "POST", path: "/account/password", cookie: cookie,
				form: url.Values{"current_password": {tc.current}, "new_password": {tc.new}, "confirm_password": {tc.repeat}, "next": {"/vendors/segment"}}})
			if res.status != tc.status || !strings.Contains(res.body, tc.msg) || res.header.Get("Set-Cookie") != "" {
				t.Errorf("%s: %d %.2000s", tc.name, res.status, res.body)
			}
			checkUIHeaders(t, tc.name, res)
			for _, pw := range []string{gen, mine, "short one", "not my password at all"} {
				if strings.Contains(res.body, pw) {
					t.Errorf("%s: the page shows a password", tc.name)
				}
			}
			if !strings.Contains(res.body, `name="next" value="/vendors/segment"`) {
				t.Errorf("%s: the form forgot where to go", tc.name)
			}
			if after, _ := e.store.GetUser(ctx, "ada"); after != before {
				t.Fatalf("%s changed the user", tc.name)
			}
			if res := e.page(pageReq{path: "/vendors", cookie: cookie}); res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), "/account/password") {
				t.Fatalf("%s: the session no longer goes to the form: %d %q", tc.name, res.status, res.header.Get("Location"))
			}
		}
		// A cross-site post changes nothing.
		res := e.page(pageReq{method: "POST", path: "/account/password", cookie: cookie, header: map[string]string{"Sec-Fetch-Site": "cross-site"},
			form: url.Values{"current_password": {gen}, "new_password": {mine}, "confirm_password": {mine}}})
		if res.status != 403 || res.header.Get("Set-Cookie") != "" {
			t.Errorf("cross-site change: %d", res.status)
		}

		// Success: a new session, the old one gone, the page asked for.
		res = e.page(pageReq{method: "POST", path: "/account/password", cookie: cookie,
			form: url.Values{"current_password": {gen}, "new_password": {mine}, "confirm_password": {mine}, "next": {"/vendors/segment"}}})
		fresh := sessionCookieOf(res.header)
		if res.status != 303 || res.header.Get("Location") != "/vendors/segment" || fresh == "" || fresh == cookie {
			t.Fatalf("change: %d %v %.300s", res.status, res.header, res.body)
		}
		e.secrets = append(e.secrets, fresh)
		if res := e.page(pageReq{path: "/vendors", cookie: cookie}); res.status != 303 || res.header.Get("Location") != loginRedirect("/vendors") {
			t.Errorf("the old session still works: %d %q", res.status, res.header.Get("Location"))
		}
		e.ok(req{method: "GET", path: "/api/v1/me", cookie: cookie}, 401, nil)
		if page := e.okPage("/vendors/segment", fresh); !strings.Contains(page, "Segment") || !strings.Contains(page, `href="/account/password"`) {
			t.Errorf("the vendor page after the change: %.500s", page)
		}
		e.ok(req{method: "GET", path: "/api/v1/vendors", cookie: fresh}, 200, nil)
		e.ok(req{method: "GET", path: "/api/v1/vendors", bearer: token}, 200, nil) // tokens live on
		u, _ := e.store.GetUser(ctx, "ada")
		if u.MustChangePassword || u.PasswordHash == before.PasswordHash {
			t.Errorf("after the change: %+v", u)
		}
		e.uiLogin("ada", mine, "/")

		// Changing it again, by choice from the header's link: the flag
		// stays off; the next page is where the link was followed from.
		form = e.okPage("/account/password?next=%2Fvendors", fresh)
		if strings.Contains(form, "works once") || !strings.Contains(form, `name="next" value="/vendors"`) {
			t.Errorf("the voluntary form: %.1000s", form)
		}
		const again = "eight loud geese at dusk"
		res = e.page(pageReq{method: "POST", path: "/account/password", cookie: fresh,
			form: url.Values{"current_password": {mine}, "new_password": {again}, "confirm_password": {again}, "next": {"/vendors"}}})
		if res.status != 303 || res.header.Get("Location") != "/vendors" || sessionCookieOf(res.header) == "" {
			t.Errorf("second change: %d %v", res.status, res.header)
		}
		e.secrets = append(e.secrets, sessionCookieOf(res.header))
		if u, _ := e.store.GetUser(ctx, "ada"); u.MustChangePassword {
			t.Error("changing one's own password set the flag")
		}
		// The audit log: ada did it, the flag recorded, no password.
		entries, _, err := e.svc.AuditEntries(ctx, store.AuditFilter{Object: "user:ada"}, 100)
		if err != nil {
			t.Fatal(err)
		}
		var flags []string
		for _, en := range entries {
			if strings.Contains(string(en.After), "must_change_password") {
				flags = append(flags, en.Actor+" "+string(en.After))
			}
		}
		if len(flags) != 2 || flags[0] != `system {"name":"ada","role":"editor","disabled":false,"must_change_password":true}` ||
			flags[1] != `user:ada {"must_change_password":false,"password":"changed"}` {
			t.Errorf("audit: %q", flags)
		}
		e.checkLogs(gen, mine, again)
	})
}

// TestUIPasswordForms: the header links to the form; a next that leaves
// the site, or leads back to the form, goes home; wrong current passwords
// are rate-limited as logins are; a user without a password is told so.
func TestUIPasswordForms(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		e.passwordUser("ada", auth.RoleViewer, password)
		cookie, _ := e.uiLogin("ada", password, "/vendors")
		page := e.okPage("/vendors", cookie)
		if !strings.Contains(page, `<a href="/account/password">Change password</a>`) {
			t.Errorf("no link to the form in the header")
		}
		for next, want := range map[string]string{"//evil.example/": "/dashboard", "/account/password?next=%2F": "/dashboard", "/vendors/segment": "/vendors/segment"} {
			if form := e.okPage("/account/password?"+url.Values{"next": {next}}.Encode(), cookie); !strings.Contains(form, `name="next" value="`+want+`"`) {
				t.Errorf("next=%q: the form does not go to %q", next, want)
			}
		}
		for i := range 5 {
			res := e.page(pageReq{method: "POST", path: "/account/password", cookie: cookie,
				form: url.Values{"current_password": {"wrong guess number " + string(rune('a'+i))}, "new_password": {mine}, "confirm_password": {mine}}})
			if res.status != 400 || !strings.Contains(res.body, "Your current password is wrong.") {
				t.Fatalf("guess %d: %d", i, res.status)
			}
		}
		res := e.page(pageReq{method: "POST", path: "/account/password", cookie: cookie,
			form: url.Values{"current_password": {password}, "new_password": {mine}, "confirm_password": {mine}}})
		if res.status != 429 || !strings.Contains(res.body, "Too many wrong passwords.") || res.header.Get("Retry-After") == "" || res.header.Get("Set-Cookie") != "" {
			t.Errorf("sixth attempt: %d %v %.300s", res.status, res.header, res.body)
		}
		// The same limit covers logins from this client.
		if res := e.page(pageReq{method: "POST", path: "/login", form: url.Values{"username": {"ada"}, "password": {password}}}); res.status != 429 {
			t.Errorf("login after five wrong current passwords: %d", res.status)
		}
		e.okPage("/vendors", cookie) // the session is untouched

		// A user without a password (single sign-on, the harness's).
		sso := e.session("viewer")
		if form := e.okPage("/account/password", sso); !strings.Contains(form, "no password to change") || strings.Contains(form, `name="current_password"`) {
			t.Errorf("the form of a user without a password: %.1000s", form)
		}
		res = e.page(pageReq{method: "POST", path: "/account/password", cookie: sso, form: url.Values{"current_password": {"x"}, "new_password": {mine}, "confirm_password": {mine}}})
		if res.status != 400 || !strings.Contains(res.body, "no password to change") {
			t.Errorf("a change without a password: %d", res.status)
		}
		e.checkLogs(password, mine)
	})
}

// TestAPIOneTimePassword: the API's side of the same rules.
func TestAPIOneTimePassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		gen := e.oneTimeUser("ada", auth.RoleEditor)
		var lr web.LoginResponse
		e.ok(req{method: "POST", path: "/api/v1/login", body: web.LoginRequest{Username: "ada", Password: gen}}, 200, &lr)
		e.secrets = append(e.secrets, lr.Secret)
		if !lr.User.MustChangePassword {
			t.Errorf("the login response does not say the password is one-time: %+v", lr.User)
		}
		sess := lr.Secret
		for _, r := range []req{{method: "GET", path: "/api/v1/vendors", bearer: sess}, {method: "GET", path: "/api/v1/users", bearer: sess}} {
			if res := e.do(r); res.status != 403 || res.apiErr(t).Code != "password_change_required" {
				t.Errorf("%s %s: %d %s", r.method, r.path, res.status, res.body)
			}
		}
		// Refusals, each on its field; nothing changes.
		before, _ := e.store.GetUser(ctx, "ada")
		for _, tc := range []struct {
			body  any
			field string
			msg   string
		}{
			{`{}`, "current_password", "required"},
			{web.PasswordChange{CurrentPassword: gen}, "new_password", "required"},
			{web.PasswordChange{CurrentPassword: "wrong, wrong, wrong", NewPassword: mine}, "current_password", "the current password is wrong"},
			{web.PasswordChange{CurrentPassword: gen, NewPassword: "tiny"}, "new_password", "4 characters; use at least 15"},
			{web.PasswordChange{CurrentPassword: gen, NewPassword: gen}, "new_password", "the new password is the current one"},
		} {
			res := e.do(req{method: "POST", path: "/api/v1/me/password", bearer: sess, body: tc.body})
			if ae := res.apiErr(t); res.status != 400 || ae.Field != tc.field || !strings.Contains(ae.Message, tc.msg) {
				t.Errorf("%v: %d %s", tc.body, res.status, res.body)
			}
			if strings.Contains(string(res.body), gen) {
				t.Errorf("%v: the error quotes the password", tc.body)
			}
		}
		if res := e.do(req{method: "POST", path: "/api/v1/me/password", bearer: sess, body: `{"current_password": "x", "new_password": "y", "confirm": "y"}`}); res.status != 400 || res.apiErr(t).Code != "unknown_field" {
			t.Errorf("unknown field: %d %s", res.status, res.body)
		}
		if after, _ := e.store.GetUser(ctx, "ada"); after != before {
			t.Fatal("a refused change changed the user")
		}
		// A token cannot change its user's password.
		tok := e.token("ada", auth.RoleViewer)
		if res := e.do(req{method: "POST", path: "/api/v1/me/password", bearer: tok, body: web.PasswordChange{CurrentPassword: gen, NewPassword: mine}}); res.status != 400 || res.apiErr(t).Code != "not_a_session" {
			t.Errorf("with a token: %d %s", res.status, res.body)
		}
		// Success.
		var changed web.LoginResponse
		res := e.ok(req{method: "POST", path: "/api/v1/me/password", bearer: sess, body: web.PasswordChange{CurrentPassword: gen, NewPassword: mine}}, 200, &changed)
		e.secrets = append(e.secrets, changed.Secret)
		if changed.User.MustChangePassword || changed.Secret == sess || sessionCookieOf(res.header) != changed.Secret || changed.Session.ID != changed.Secret[:14] {
			t.Errorf("change: %s", res.body)
		}
		if res := e.do(req{method: "GET", path: "/api/v1/me", bearer: sess}); res.status != 401 {
			t.Errorf("the old session: %d", res.status)
		}
		e.ok(req{method: "GET", path: "/api/v1/vendors", bearer: changed.Secret}, 200, nil)
		e.ok(req{method: "GET", path: "/api/v1/vendors", bearer: tok}, 200, nil)
		e.checkLogs(gen, mine)
	})
}

// TestAPIAdminSetsOneTimePassword: a password an admin gives through the
// API is one-time unless the admin says otherwise; a refused request
// changes nothing.
func TestAPIAdminSetsOneTimePassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		admin := e.tokens[auth.RoleAdmin]
		var u service.UserWithPassword
		e.ok(req{method: "POST", path: "/api/v1/users", bearer: admin, body: web.UserCreate{Name: "ada", Role: auth.RoleViewer, Password: password}}, 201, &u)
		if !u.MustChangePassword || u.Password != "" {
			t.Errorf("create with a password: %+v", u)
		}
		e.ok(req{method: "POST", path: "/api/v1/users", bearer: admin, body: `{"name": "bob", "role": "viewer"}`}, 201, &u)
		if !u.MustChangePassword || u.Password == "" {
			t.Errorf("create without a password: %+v", u)
		}
		e.secrets = append(e.secrets, u.Password)
		e.ok(req{method: "POST", path: "/api/v1/users", bearer: admin, body: `{"name": "cy", "role": "viewer", "password": "` + password + `", "must_change_password": false}`}, 201, &u)
		if u.MustChangePassword {
			t.Errorf("create with must_change_password false: %+v", u)
		}
		res := e.do(req{method: "POST", path: "/api/v1/users", bearer: admin, body: `{"name": "dee", "role": "viewer", "must_change_password": false}`})
		if res.status != 400 || res.apiErr(t).Field != "must_change_password" {
			t.Errorf("a generated password that stays: %d %s", res.status, res.body)
		}
		if _, err := e.store.GetUser(ctx, "dee"); err == nil {
			t.Error("a refused create made the user")
		}

		// PATCH: a new password is one-time and ends the sessions.
		cySession := e.session("cy")
		var pu web.Me
		e.ok(req{method: "PATCH", path: "/api/v1/users/cy", bearer: admin, body: `{"password": "` + mine + `"}`}, 200, &pu.User)
		if !pu.User.MustChangePassword {
			t.Errorf("patch password: %+v", pu.User)
		}
		if res := e.do(req{method: "GET", path: "/api/v1/me", bearer: cySession}); res.status != 401 {
			t.Errorf("cy's session outlived the new password: %d", res.status)
		}
		e.ok(req{method: "PATCH", path: "/api/v1/users/cy", bearer: admin, body: `{"password": "` + mine + ` two", "must_change_password": false}`}, 200, &pu.User)
		if pu.User.MustChangePassword {
			t.Errorf("patch password, must_change_password false: %+v", pu.User)
		}
		e.ok(req{method: "PATCH", path: "/api/v1/users/cy", bearer: admin, body: `{"must_change_password": true}`}, 200, &pu.User)
		if !pu.User.MustChangePassword {
			t.Errorf("patch must_change_password true: %+v", pu.User)
		}
		before, _ := e.store.GetUser(ctx, "cy")
		for body, field := range map[string]string{
			`{"role": "editor", "password": "short"}`:           "password",
			`{"role": "editor", "password": ""}`:                "password",
			`{"role": "editor", "must_change_password": false}`: "must_change_password",
		} {
			res := e.do(req{method: "PATCH", path: "/api/v1/users/cy", bearer: admin, body: body})
			if res.status != 400 || res.apiErr(t).Field != field {
				t.Errorf("%s: %d %s", body, res.status, res.body)
			}
		}
		if after, _ := e.store.GetUser(ctx, "cy"); after != before {
			t.Error("a refused patch changed the user")
		}
		e.checkLogs(password, mine)
	})
}

// TestOneTimeRoutes: what a one-time session may reach are routes, of
// the API's table or the UI's; and logging out is one of them.
func TestOneTimeRoutes(t *testing.T) {
	have := map[string]bool{}
	for _, rt := range web.Routes() {
		have[rt.Method+" "+rt.Path] = true
	}
	for _, rt := range web.UIRoutes() {
		have[rt.Method+" "+rt.Path] = true
	}
	for r := range web.OneTimeRoutes() {
		if !have[r] {
			t.Errorf("%s is not a route", r)
		}
	}
	e := newEnv(t, t.TempDir()+"/weaklink.db", false)
	gen := e.oneTimeUser("ada", auth.RoleViewer)
	var lr web.LoginResponse
	e.ok(req{method: "POST", path: "/api/v1/login", body: web.LoginRequest{Username: "ada", Password: gen}}, 200, &lr)
	e.secrets = append(e.secrets, lr.Secret)
	e.ok(req{method: "POST", path: "/api/v1/logout", bearer: lr.Secret}, 204, nil)
	cookie, _ := e.uiLogin("ada", gen, "/")
	if res := e.page(pageReq{method: "POST", path: "/logout", form: url.Values{}, cookie: cookie}); res.status != 303 || res.header.Get("Location") != "/login" {
		t.Errorf("UI logout: %d %q", res.status, res.header.Get("Location"))
	}
	e.checkLogs(gen)
}

// TestForcedChangeWithoutPassword: a user without a password (made by
// single sign-on) cannot be made to change one: the PATCH is refused with
// a precise message and changes nothing, not even the role asked for in
// the same request; and a flag already set (older data) does not lock its
// sessions out of the UI or the API.
func TestForcedChangeWithoutPassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		admin := e.tokens[auth.RoleAdmin]
		e.user("sso", auth.RoleViewer)
		before, _ := e.store.GetUser(ctx, "sso")
		for _, body := range []string{`{"must_change_password": true}`, `{"role": "editor", "must_change_password": true}`} {
			res := e.do(req{method: "PATCH", path: "/api/v1/users/SSO", bearer: admin, body: body})
			if ae := res.apiErr(t); res.status != 400 || ae.Field != "must_change_password" ||
				!strings.Contains(ae.Message, "user sso has no password (it signs in by single sign-on), so there is none to change") {
				t.Errorf("%s: %d %s", body, res.status, res.body)
			}
		}
		if after, _ := e.store.GetUser(ctx, "sso"); after != before {
			t.Errorf("a refused patch changed the user: %+v", after)
		}

		// The flag set anyway: the session goes where its role allows.
		if _, err := e.store.UpdateUser(ctx, "sso", store.UserUpdate{MustChangePassword: flagPtr(true)}); err != nil {
			t.Fatal(err)
		}
		cookie := e.session("sso")
		if res := e.page(pageReq{path: "/vendors", cookie: cookie}); res.status != 200 {
			t.Errorf("a page: %d %q", res.status, res.header.Get("Location"))
		}
		if res := e.do(req{method: "GET", path: "/api/v1/vendors", cookie: cookie}); res.status != 200 {
			t.Errorf("an API call: %d %s", res.status, res.body)
		}
		if body := e.okPage("/account/password", cookie); strings.Contains(body, `id="one-time"`) {
			t.Error("the form says the (absent) password is one-time")
		}
		e.checkLogs()
	})
}

func flagPtr(b bool) *bool { return &b }
