package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

// signIn runs a whole single sign-on with claims in a new browser and
// returns the last page, where it ended, and the session cookie ("" if
// none).
func (e *env) signIn(idp *fakeIdP, claims map[string]any) (pageResp, *url.URL, string) {
	e.t.Helper()
	idp.set(func(f *fakeIdP) { f.claims, f.edit = claims, nil })
	b := newBrowser(e.t)
	res, at := b.get(e.t, e.ts.URL+"/auth/oidc/login")
	sess := b.cookie(e.ts.URL, web.CookieName)
	if sess != "" {
		e.secrets = append(e.secrets, sess)
	}
	return res, at, sess
}

// meOf is the user a session cookie belongs to.
func (e *env) meOf(cookie string) string {
	e.t.Helper()
	var me web.Me
	e.ok(req{method: "GET", path: "/api/v1/me", cookie: cookie}, 200, &me)
	return me.User.Name
}

// TestOIDCLinkedIdentity: an account at the provider (issuer, subject)
// is bound to its user at the first sign-in, and a user name claim that
// people can edit no longer picks the user: renaming oneself "ada" at the
// provider gets no session as the local admin ada (who has a password and
// was not linked), nor as a user linked to someone else; a renamed
// account keeps its user; an admin's link lets the right account in.
func TestOIDCLinkedIdentity(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e, idp := newSSOEnv(t, db, func(o *web.OIDC) { o.UsernameClaim = "preferred_username"; o.AllowedDomain = "acme.com" })
		e.passwordUser("ada", auth.RoleAdmin, mine)
		e.user("bob", auth.RoleEditor) // made by single sign-on before accounts were linked: no password
		claims := func(name, sub, email string) map[string]any {
			return map[string]any{"preferred_username": name, "sub": sub, "email": email, "email_verified": true}
		}

		// An acme.com employee renames themselves ada: refused, nothing linked.
		res, _, sess := e.signIn(idp, claims("ada", "sub-mallory", "mallory@acme.com"))
		if res.status != 403 || sess != "" || !strings.Contains(res.body, "has a password and is not linked to your account") ||
			!strings.Contains(res.body, "weaklink users link-sso ada --issuer "+idp.ts.URL+" --subject sub-mallory") {
			t.Fatalf("renamed to ada: %d %q %.1500s", res.status, sess, res.body)
		}
		if ids, _ := e.store.UserIdentities(ctx, "ada"); len(ids) != 0 {
			t.Errorf("a refused sign-in linked ada: %+v", ids)
		}
		if !strings.Contains(e.logs.String(), `"reason":"link required","user":"ada","issuer":"`+idp.ts.URL+`","subject":"sub-mallory"`) {
			t.Errorf("the log does not give the subject to link: %s", e.logs.String())
		}

		// bob's first sign-in links his account.
		res, _, sess = e.signIn(idp, claims("bob", "sub-bob", "bob@acme.com"))
		if res.status != 200 || e.meOf(sess) != "bob" {
			t.Fatalf("bob's first sign-in: %d %.500s", res.status, res.body)
		}
		if id, err := e.store.GetIdentity(ctx, idp.ts.URL, "sub-bob"); err != nil || id.User != "bob" {
			t.Fatalf("bob's link: %+v %v", id, err)
		}
		var entries []string
		if err := e.store.ScanAudit(ctx, store.AuditFilter{Object: "user:bob"}, func(en audit.Entry) error {
			entries = append(entries, en.Action+" "+en.Actor+" "+string(en.After))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if want := `link user:bob {"issuer":"` + idp.ts.URL + `","subject":"sub-bob"}`; !slices.Contains(entries, want) {
			t.Errorf("audit of bob: %q, want %q", entries, want)
		}
		// Another account renamed bob: refused.
		res, _, sess = e.signIn(idp, claims("bob", "sub-eve", "eve@acme.com"))
		if res.status != 403 || sess != "" || !strings.Contains(res.body, "is linked to another account at this identity provider") {
			t.Errorf("renamed to bob: %d %.800s", res.status, res.body)
		}
		// bob renames himself: still bob.
		res, _, sess = e.signIn(idp, claims("robert", "sub-bob", "bob@acme.com"))
		if res.status != 200 || e.meOf(sess) != "bob" {
			t.Errorf("bob renamed: %d %.500s", res.status, res.body)
		}
		if _, err := e.store.GetUser(ctx, "robert"); err == nil {
			t.Error("a renamed account made a user")
		}

		// An admin links ada's real account; she signs in, mallory still not.
		if _, err := e.svc.LinkIdentity(audit.WithActor(ctx, "root"), "ada", idp.ts.URL, "sub-ada"); err != nil {
			t.Fatal(err)
		}
		res, _, sess = e.signIn(idp, claims("ada", "sub-ada", "ada@acme.com"))
		if res.status != 200 || e.meOf(sess) != "ada" {
			t.Errorf("ada after her link: %d %.500s", res.status, res.body)
		}
		res, _, sess = e.signIn(idp, claims("ada", "sub-mallory", "mallory@acme.com"))
		if res.status != 403 || sess != "" || !strings.Contains(res.body, "linked to another account") {
			t.Errorf("mallory after ada's link: %d %.500s", res.status, res.body)
		}

		// Neither log nor audit holds a code or token.
		e.checkLogs(idp.secrets()...)
		if err := e.store.ScanAudit(ctx, store.AuditFilter{}, func(en audit.Entry) error {
			for _, s := range idp.secrets() {
				if strings.Contains(string(en.Before)+string(en.After), s) {
					t.Errorf("audit entry %d holds a secret", en.Seq)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOIDCLinkExisting: with --oidc-link-existing, a user with a password
// is linked at its first sign-in when its name is the account's verified
// email, and only then.
func TestOIDCLinkExisting(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e, idp := newSSOEnv(t, db, func(o *web.OIDC) { o.LinkExisting = true; o.AllowedDomain = "example.com" })
		e.passwordUser("ada@example.com", auth.RoleEditor, mine)
		e.passwordUser("grace@example.com", auth.RoleEditor, mine)
		// Unverified: the email claim cannot name anyone.
		if res, _, sess := e.signIn(idp, map[string]any{"email": "ada@example.com", "email_verified": false}); res.status != 403 || sess != "" {
			t.Errorf("unverified: %d", res.status)
		}
		res, _, sess := e.signIn(idp, map[string]any{"email": "Ada@Example.com", "email_verified": true})
		if res.status != 200 || e.meOf(sess) != "ada@example.com" {
			t.Fatalf("link by verified email: %d %.500s", res.status, res.body)
		}
		if id, err := e.store.GetIdentity(ctx, idp.ts.URL, "sub-ada@example.com"); err != nil || id.User != "ada@example.com" {
			t.Errorf("the link: %+v %v", id, err)
		}
		// The name from another claim than the verified email: refused
		// (a second configuration, on SQLite).
		e2, idp2 := newSSOEnv(t, t.TempDir()+"/second.db", func(o *web.OIDC) {
			o.LinkExisting, o.AllowedDomain, o.UsernameClaim = true, "example.com", "preferred_username"
		})
		e2.passwordUser("grace", auth.RoleEditor, mine)
		res, _, sess = e2.signIn(idp2, map[string]any{"preferred_username": "grace", "email": "grace@example.com", "email_verified": true})
		if res.status != 403 || sess != "" || !strings.Contains(res.body, "has a password and is not linked") {
			t.Errorf("link by a name that is not the verified email: %d %.500s", res.status, res.body)
		}
	})
}

// TestOIDCLinkRequiredByDefault: without --oidc-link-existing, a user
// with a password is never linked by a sign-in, even by its verified
// email.
func TestOIDCLinkRequiredByDefault(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e, idp := newSSOEnv(t, db, nil)
		e.passwordUser("ada@example.com", auth.RoleAdmin, mine)
		res, _, sess := e.signIn(idp, map[string]any{"email": "ada@example.com", "email_verified": true})
		if res.status != 403 || sess != "" || !strings.Contains(res.body, "Log in with the password, or ask an admin to link your account") {
			t.Errorf("a user with a password: %d %.800s", res.status, res.body)
		}
		if ids, _ := e.store.UserIdentities(ctx, "ada@example.com"); len(ids) != 0 {
			t.Errorf("linked: %+v", ids)
		}
	})
}

// TestOIDCAllowedDomain: the allowed domain applies to the claim that
// names the user when it is an address, to the verified email otherwise,
// and to Google's hd claim when present; compared exactly, as lowercase
// ASCII (strings.EqualFold would let ſ stand for s and K for k). A domain
// check reads no store: SQLite only.
func TestOIDCAllowedDomain(t *testing.T) {
	e, idp := newSSOEnv(t, t.TempDir()+"/weaklink.db", func(o *web.OIDC) {
		o.UsernameClaim, o.AllowedDomain, o.DefaultRole = "upn", "acme.site", auth.RoleViewer
	})
	for _, tc := range []struct {
		name   string
		claims map[string]any
		ok     bool
	}{
		{"upn in the domain, no email", map[string]any{"upn": "ada@acme.site"}, true},
		{"upn in the domain, upper case", map[string]any{"upn": "Bea@ACME.Site"}, true},
		{"upn elsewhere, verified email in the domain", map[string]any{"upn": "eve@evil.example", "email": "eve@acme.site", "email_verified": true}, false},
		{"upn at a lookalike domain", map[string]any{"upn": "eve@acme.site.evil.example"}, false},
		{"upn with a long s", map[string]any{"upn": "eve@acme.ſite"}, false},
		{"upn with a trailing dot", map[string]any{"upn": "eve@acme.site."}, false},
		{"a name, verified email in the domain", map[string]any{"upn": "carol", "email": "carol@acme.site", "email_verified": true}, true},
		{"a name, unverified email in the domain", map[string]any{"upn": "dan", "email": "dan@acme.site", "email_verified": false}, false},
		{"a name, verified email elsewhere", map[string]any{"upn": "erin", "email": "erin@evil.example", "email_verified": true}, false},
		{"a name, verified email with a long s", map[string]any{"upn": "fay", "email": "fay@acme.ſite", "email_verified": true}, false},
		{"hd in the domain", map[string]any{"upn": "gus@acme.site", "hd": "acme.site"}, true},
		{"hd elsewhere", map[string]any{"upn": "hal@acme.site", "hd": "evil.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _, sess := e.signIn(idp, tc.claims)
			if tc.ok != (res.status == 200 && sess != "") {
				t.Errorf("%v: %d %.600s", tc.claims, res.status, res.body)
			}
			if !tc.ok && !strings.Contains(res.body, "acme.site") {
				t.Errorf("the refusal does not name the domain: %.600s", res.body)
			}
		})
	}
	// The Kelvin sign folds to k: not ASCII, not a user name.
	e2, idp2 := newSSOEnv(t, t.TempDir()+"/weaklink.db", func(o *web.OIDC) { o.AllowedDomain, o.DefaultRole = "kelvin.example", auth.RoleViewer })
	if res, _, sess := e2.signIn(idp2, map[string]any{"email": "x@\u212Aelvin.example", "email_verified": true}); res.status != 403 || sess != "" {
		t.Errorf("a Kelvin sign in the domain: %d", res.status)
	}
	if res, _, sess := e2.signIn(idp2, map[string]any{"email": "\u212Aate@kelvin.example", "email_verified": true}); res.status != 403 || sess != "" {
		t.Errorf("a Kelvin sign in the name: %d", res.status)
	}
}

// TestOIDCNextBounded: a long next does not go into the sign-in cookie:
// the sign-in ends on the home page. The cookie holds no store state:
// SQLite only.
func TestOIDCNextBounded(t *testing.T) {
	e, idp := newSSOEnv(t, t.TempDir()+"/weaklink.db", nil)
	e.user("ada@example.com", auth.RoleEditor)
	idp.set(func(f *fakeIdP) { f.claims = map[string]any{"email": "ada@example.com", "email_verified": true} })
	for _, tc := range []struct {
		next string
		kept bool
	}{
		{"/vendors?q=" + strings.Repeat("x", 1000), true},
		{"/vendors?q=" + strings.Repeat("x", 20000), false},
	} {
		b := newBrowser(t)
		var cookie string
		b.onRedirect = func(r *http.Request) {
			if cookie == "" {
				cookie = b.cookie(e.ts.URL, ssoCookie)
			}
		}
		res, at := b.get(t, e.ts.URL+"/auth/oidc/login?next="+url.QueryEscape(tc.next))
		if res.status != 200 || (at.RequestURI() == tc.next) != tc.kept || strings.Contains(at.RequestURI(), "xxx") != tc.kept {
			t.Errorf("next of %d bytes: %d at %.60s", len(tc.next), res.status, at.RequestURI())
		}
		if len(cookie) > 2048 {
			t.Errorf("next of %d bytes: a sign-in cookie of %d bytes", len(tc.next), len(cookie))
		}
		e.secrets = append(e.secrets, b.cookie(e.ts.URL, web.CookieName))
	}
}

// TestOIDCReplayBound: the finished sign-ins remembered are bounded; at
// the bound, new sign-ins are refused with 503 and Retry-After, while
// every finished one stays refused as a replay; they are forgotten only
// once their cookie has expired. The replay set is in memory: SQLite only.
func TestOIDCReplayBound(t *testing.T) {
	e, idp := newSSOEnv(t, t.TempDir()+"/weaklink.db", nil)
	e.srv.SetSSOMaxFinished(2)
	e.user("ada@example.com", auth.RoleEditor)
	idp.set(func(f *fakeIdP) { f.claims = map[string]any{"email": "ada@example.com", "email_verified": true} })
	type finished struct{ callback, cookie string }
	var done []finished
	for i := range 2 {
		b := newBrowser(t)
		var f finished
		b.onRedirect = func(r *http.Request) {
			if r.URL.Path == "/auth/oidc/callback" {
				f = finished{r.URL.String(), b.cookie(e.ts.URL, ssoCookie)}
			}
		}
		if res, _ := b.get(t, e.ts.URL+"/auth/oidc/login"); res.status != 200 {
			t.Fatalf("sign-in %d: %d %.300s", i, res.status, res.body)
		}
		done = append(done, f)
		e.secrets = append(e.secrets, b.cookie(e.ts.URL, web.CookieName), f.cookie)
		e.advance(time.Minute)
	}
	// Full: the login page refuses at once, and says when to retry.
	res := e.page(pageReq{path: "/auth/oidc/login"})
	if res.status != 503 || !strings.Contains(res.body, "Too many single sign-ins are in progress") || res.header.Get("Retry-After") != "480" ||
		res.header.Get("Set-Cookie") != "" {
		t.Errorf("login when full: %d Retry-After %q %.500s", res.status, res.header.Get("Retry-After"), res.body)
	}
	// Replays stay refused.
	for _, f := range done {
		hr, _ := http.NewRequest("GET", f.callback, nil)
		hr.AddCookie(&http.Cookie{Name: ssoCookie, Value: f.cookie})
		r, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, r)
		if r.StatusCode != 400 || !strings.Contains(body, "This sign-in has been used already.") {
			t.Errorf("a replay at the bound: %d %.300s", r.StatusCode, body)
		}
	}
	// Ten minutes after the first, it has expired: room for one.
	e.advance(8 * time.Minute)
	if res, _, sess := e.signIn(idp, map[string]any{"email": "ada@example.com", "email_verified": true}); res.status != 200 || sess == "" {
		t.Errorf("after the first expired: %d %.300s", res.status, res.body)
	}
	if res := e.page(pageReq{path: "/auth/oidc/login"}); res.status != 503 {
		t.Errorf("full again: %d", res.status)
	}
	e.checkLogs(idp.secrets()...)
}

func readAll(t *testing.T, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
