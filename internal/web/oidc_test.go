package web_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

// fakeIdP is a small OpenID Connect provider on 127.0.0.1: a discovery
// document, a JWKS with one RSA key, /authorize that consents at once for
// the configured user and redirects back with a code, and /token that
// checks the client, the code (once) and the PKCE verifier, and returns an
// ID token signed RS256. Its knobs make it misbehave.
type fakeIdP struct {
	t        *testing.T
	ts       *httptest.Server
	key      *rsa.PrivateKey
	now      func() time.Time
	clientID string
	secret   string
	redirect string // set once the weaklink server runs

	mu sync.Mutex
	// claims are the user's claims in the next ID tokens.
	claims map[string]any
	// edit changes an ID token's claims before signing.
	edit func(map[string]any)
	// signer signs ID tokens (nil: key, the JWKS's).
	signer *rsa.PrivateKey
	// state, when set, replaces the state sent back.
	state string
	// fail, when set, is the error sent back instead of a code.
	fail string
	// discovery edits the discovery document.
	discovery func(map[string]any)
	grants    map[string]grant
	// issued lists every code, token, state and nonce seen, to check that
	// none reaches weaklink's log.
	issued    []string
	lastNonce string
}

type grant struct{ challenge, nonce, redirect string }

// testKey is one RSA key for all the tests: generating one takes a while.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newFakeIdP(t *testing.T, now func() time.Time) *fakeIdP {
	f := &fakeIdP{t: t, key: testKey(), now: now, clientID: "weaklink-test", secret: "idp-client-secret-" + rand.Text(),
		grants: map[string]grant{}, claims: map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discover)
	mux.HandleFunc("GET /jwks", f.jwks)
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	f.ts = httptest.NewServer(mux)
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fakeIdP) set(fn func(f *fakeIdP)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeIdP) secrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(slices.Clone(f.issued), f.secret)
}

func (f *fakeIdP) discover(w http.ResponseWriter, r *http.Request) {
	u := f.ts.URL
	doc := map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token", "jwks_uri": u + "/jwks",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"}}
	f.mu.Lock()
	if f.discovery != nil {
		f.discovery(doc)
	}
	f.mu.Unlock()
	writeTestJSON(w, doc)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (f *fakeIdP) jwks(w http.ResponseWriter, r *http.Request) {
	pub := f.key.PublicKey
	writeTestJSON(w, map[string]any{"keys": []map[string]any{{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}}})
}

func (f *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": f.clientID, "redirect_uri": f.redirect, "code_challenge_method": "S256"} {
		if q.Get(k) != want {
			f.t.Errorf("authorize: %s=%q, want %q", k, q.Get(k), want)
			http.Error(w, "bad request", 400)
			return
		}
	}
	if !slices.Contains(strings.Fields(q.Get("scope")), "openid") || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 32 || len(q.Get("nonce")) < 32 {
		f.t.Errorf("authorize: scope, PKCE challenge, state or nonce missing or short: %v", q)
		http.Error(w, "bad request", 400)
		return
	}
	f.mu.Lock()
	code := "code-" + rand.Text()
	f.grants[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri")}
	f.issued = append(f.issued, code, q.Get("state"), q.Get("nonce"), q.Get("code_challenge"))
	back := url.Values{"state": {q.Get("state")}}
	if f.state != "" {
		back.Set("state", f.state)
	}
	if f.fail != "" {
		back.Set("error", f.fail)
		back.Set("error_description", "the user said no")
	} else {
		back.Set("code", code)
	}
	f.mu.Unlock()
	http.Redirect(w, r, f.redirect+"?"+back.Encode(), http.StatusFound)
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	if !ok || id != f.clientID || secret != f.secret {
		w.WriteHeader(401)
		writeTestJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", 400)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	code := r.PostForm.Get("code")
	g, ok := f.grants[code]
	delete(f.grants, code) // once
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != g.redirect || b64(sum[:]) != g.challenge {
		w.WriteHeader(400)
		writeTestJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	now := f.now()
	// One account per name unless the claims say otherwise: sub is the
	// account, and single sign-on links it to its user.
	sub := "sub-0001"
	for _, k := range []string{"email", "preferred_username", "upn"} {
		if v, ok := f.claims[k].(string); ok && v != "" {
			sub = "sub-" + strings.ToLower(v)
			break
		}
	}
	claims := map[string]any{"iss": f.ts.URL, "sub": sub, "aud": f.clientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce}
	for k, v := range f.claims {
		claims[k] = v
	}
	if f.edit != nil {
		f.edit(claims)
	}
	f.lastNonce = g.nonce
	signer := f.key
	if f.signer != nil {
		signer = f.signer
	}
	idt := signJWT(f.t, signer, claims)
	access := "access-" + rand.Text()
	f.issued = append(f.issued, idt, access, strings.Split(idt, ".")[2])
	writeTestJSON(w, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}

func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	in := b64(h) + "." + b64(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + b64(sig)
}

func writeTestJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// newSSOEnv is newEnv (without the example) whose server signs in with
// the fake provider; edit changes the configuration.
func newSSOEnv(t *testing.T, db string, edit func(*web.OIDC)) (*env, *fakeIdP) {
	t.Helper()
	e := newEnv(t, db, false)
	idp := newFakeIdP(t, e.clock.Now)
	var h http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	cfg := web.OIDC{Issuer: idp.ts.URL, ClientID: idp.clientID, ClientSecret: idp.secret, RedirectURL: ts.URL + "/auth/oidc/callback"}
	if edit != nil {
		edit(&cfg)
	}
	idp.redirect = cfg.RedirectURL
	srv, err := web.New(web.Options{Service: e.svc, Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), Now: e.clock.Now, Version: "test", OIDC: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	h, e.srv, e.ts = srv, srv, ts
	return e, idp
}

// browser is an http.Client with a cookie jar that follows redirects, as
// a browser does (the jar treats 127.0.0.1 as a secure origin, so it
// keeps and sends the Secure cookies). onRedirect sees each hop.
type browser struct {
	*http.Client
	onRedirect func(*http.Request)
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{}
	b.Client = &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if b.onRedirect != nil {
			b.onRedirect(r)
		}
		if len(via) > 5 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// get follows a URL to its last page.
func (b *browser) get(t *testing.T, u string) (pageResp, *url.URL) {
	t.Helper()
	res, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return pageResp{res.StatusCode, res.Header, string(body)}, res.Request.URL
}

// cookie is the browser's cookie of that name for the server, "" if none.
func (b *browser) cookie(base, name string) string {
	u, _ := url.Parse(base)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

const ssoCookie = "__Host-weaklink_oidc"

// TestOIDCSignIn is the whole flow with a real client: the login page's
// button, the provider, the callback, a session like a password login's
// (cookie, audit actor), and the page asked for.
func TestOIDCSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e, idp := newSSOEnv(t, db, nil)
		e.user("ada@example.com", auth.RoleEditor)
		idp.set(func(f *fakeIdP) { f.claims = map[string]any{"email": "Ada@Example.com", "email_verified": true} })

		form := e.okPage("/login?next=%2Fvendors%3Fq%3Dx", "")
		if !strings.Contains(form, `<a href="/auth/oidc/login?next=%2fvendors%3fq%3dx">Sign in with single sign-on</a>`) {
			t.Errorf("the login page lacks the single sign-on link: %.1500s", form)
		}

		b := newBrowser(t)
		var hops []string
		b.onRedirect = func(r *http.Request) { hops = append(hops, r.URL.Host+r.URL.Path) }
		res, at := b.get(t, e.ts.URL+"/auth/oidc/login?next=%2Fvendors%3Fq%3Dx")
		if res.status != 200 || at.RequestURI() != "/vendors?q=x" || at.Host != strings.TrimPrefix(e.ts.URL, "http://") {
			t.Fatalf("sign-in ended at %s with %d: %.500s", at, res.status, res.body)
		}
		checkUIHeaders(t, "after sign-in", res)
		idpHost := strings.TrimPrefix(idp.ts.URL, "http://")
		if len(hops) != 3 || hops[0] != idpHost+"/authorize" || !strings.HasSuffix(hops[1], "/auth/oidc/callback") {
			t.Errorf("redirects: %v", hops)
		}
		if !strings.Contains(res.body, "ada@example.com") || !strings.Contains(res.body, "(editor)") {
			t.Errorf("the page does not show who signed in: %.800s", res.body)
		}
		sess := b.cookie(e.ts.URL, web.CookieName)
		if !strings.HasPrefix(sess, auth.SessionPrefix) || b.cookie(e.ts.URL, ssoCookie) != "" {
			t.Fatalf("cookies after sign-in: session %.8q, sign-in cookie %q", sess, b.cookie(e.ts.URL, ssoCookie))
		}
		e.secrets = append(e.secrets, sess)
		var me web.Me
		e.ok(req{method: "GET", path: "/api/v1/me", cookie: sess}, 200, &me)
		if me.User.Name != "ada@example.com" || me.Session == nil {
			t.Fatalf("me: %+v", me)
		}
		var actions []string
		if err := e.store.ScanAudit(ctx, store.AuditFilter{Object: "session:" + me.Session.ID}, func(en audit.Entry) error {
			actions = append(actions, en.Action+" "+en.Actor)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(actions, []string{"create user:ada@example.com"}) {
			t.Errorf("the sign-in's audit entries: %v", actions)
		}

		// A second sign-in in the same browser ends the first session.
		idp.set(func(f *fakeIdP) {
			f.edit = func(c map[string]any) { c["exp"] = e.clock.Now().Add(-30 * time.Second).Unix() } // within the skew
		})
		res, at = b.get(t, e.ts.URL+"/auth/oidc/login")
		if res.status != 200 || at.Path != "/dashboard" {
			t.Fatalf("second sign-in (exp 30 s ago, within the skew): %d at %s: %.500s", res.status, at, res.body)
		}
		sess2 := b.cookie(e.ts.URL, web.CookieName)
		e.secrets = append(e.secrets, sess2)
		if sess2 == sess {
			t.Error("the second sign-in kept the first session")
		}
		if r := e.do(req{method: "GET", path: "/api/v1/me", cookie: sess}); r.status != 401 {
			t.Errorf("the first session after the second sign-in: %d", r.status)
		}
		e.checkLogs(idp.secrets()...)
	})
}

// TestOIDCRefused: every way a sign-in can be wrong ends on an error page
// that says why, with no session and nothing secret in the log.
func TestOIDCRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e, idp := newSSOEnv(t, db, nil)
		e.user("ada@example.com", auth.RoleViewer)
		e.user("off@example.com", auth.RoleViewer)
		if _, err := e.svc.SetDisabled(ctx, "off@example.com", true); err != nil {
			t.Fatal(err)
		}
		ada := map[string]any{"email": "ada@example.com", "email_verified": true}
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}

		// One good sign-in first: its callback, cookie and nonce are
		// replayed below.
		idp.set(func(f *fakeIdP) { f.claims = ada })
		b := newBrowser(t)
		var callback *url.URL
		var signInCookie string
		b.onRedirect = func(r *http.Request) {
			if r.URL.Path == "/auth/oidc/callback" {
				callback, signInCookie = r.URL, b.cookie(e.ts.URL, ssoCookie)
			}
		}
		if res, at := b.get(t, e.ts.URL+"/auth/oidc/login"); res.status != 200 || at.Path != "/dashboard" {
			t.Fatalf("sign-in: %d at %s: %.500s", res.status, at, res.body)
		}
		e.secrets = append(e.secrets, b.cookie(e.ts.URL, web.CookieName))
		oldNonce := idp.lastNonce
		if callback == nil || signInCookie == "" || oldNonce == "" {
			t.Fatal("the sign-in's callback was not seen")
		}
		// The first sign-in's callback again, with its cookie: refused.
		hr, _ := http.NewRequest("GET", callback.String(), nil)
		hr.AddCookie(&http.Cookie{Name: ssoCookie, Value: signInCookie})
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 400 || !strings.Contains(string(body), "This sign-in has been used already.") || strings.Contains(res.Header.Get("Set-Cookie"), web.CookieName+"=wls_") {
			t.Errorf("replayed callback: %d %.500s", res.StatusCode, body)
		}
		// Without its cookie, or with a forged one.
		for _, ck := range []string{"", signInCookie[:len(signInCookie)-4] + "AAAA"} {
			hr, _ := http.NewRequest("GET", callback.String(), nil)
			if ck != "" {
				hr.AddCookie(&http.Cookie{Name: ssoCookie, Value: ck})
			}
			res, err := http.DefaultClient.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 400 || !strings.Contains(string(body), "Start again from the login page") {
				t.Errorf("callback with cookie %.10q: %d %.500s", ck, res.StatusCode, body)
			}
		}

		for _, tc := range []struct {
			name   string
			setup  func(f *fakeIdP)
			before func(r *http.Request) // at each redirect
			status int
			want   string
		}{
			{"wrong state", func(f *fakeIdP) { f.state = "forged-state" }, nil, 400, "state mismatch"},
			{"nonce replay", func(f *fakeIdP) { f.edit = func(c map[string]any) { c["nonce"] = oldNonce } }, nil, 401, "nonce mismatch"},
			{"expired ID token", func(f *fakeIdP) {
				f.edit = func(c map[string]any) { c["exp"] = e.clock.Now().Add(-2 * time.Minute).Unix() }
			}, nil, 401, "ID token was refused: it expired at 2025-11-09T11:58:00Z"},
			{"issued in the future", func(f *fakeIdP) {
				f.edit = func(c map[string]any) { c["iat"] = e.clock.Now().Add(3 * time.Minute).Unix() }
			}, nil, 401, "issued in the future"},
			{"wrong audience", func(f *fakeIdP) { f.edit = func(c map[string]any) { c["aud"] = "another-client" } }, nil, 401, "expected audience"},
			{"several audiences without azp", func(f *fakeIdP) {
				f.edit = func(c map[string]any) { c["aud"] = []string{f.clientID, "another-client"} }
			}, nil, 401, "not issued to this server (azp)"},
			{"wrong issuer", func(f *fakeIdP) { f.edit = func(c map[string]any) { c["iss"] = "https://idp.evil.example" } }, nil, 401, "issued by a different provider"},
			{"another key", func(f *fakeIdP) { f.signer = other }, nil, 401, "failed to verify signature"},
			{"unverified email", func(f *fakeIdP) { f.claims = map[string]any{"email": "ada@example.com", "email_verified": false} }, nil, 403,
				"has not verified the email address ada@example.com"},
			{"no email", func(f *fakeIdP) { f.claims = map[string]any{"name": "Ada"} }, nil, 403, "has no email claim"},
			{"unknown user refused", func(f *fakeIdP) { f.claims = map[string]any{"email": "nobody@example.com", "email_verified": true} }, nil, 403,
				"weaklink has no user of that name"},
			{"disabled user", func(f *fakeIdP) { f.claims = map[string]any{"email": "off@example.com", "email_verified": true} }, nil, 403,
				"The weaklink user off@example.com is disabled"},
			{"provider refuses", func(f *fakeIdP) { f.fail = "access_denied" }, nil, 401, "did not sign you in (access_denied)"},
			{"too slow", nil, func(r *http.Request) {
				if r.URL.Path == "/authorize" {
					e.advance(11 * time.Minute)
				}
			}, 400, "invalid or has expired"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				idp.set(func(f *fakeIdP) {
					f.claims, f.edit, f.signer, f.state, f.fail = ada, nil, nil, "", ""
					if tc.setup != nil {
						tc.setup(f)
					}
				})
				b := newBrowser(t)
				b.onRedirect = tc.before
				res, at := b.get(t, e.ts.URL+"/auth/oidc/login")
				if res.status != tc.status || at.Path != "/auth/oidc/callback" || !strings.Contains(res.body, tc.want) {
					t.Errorf("%d at %s, want %d with %q: %.1200s", res.status, at.Path, tc.status, tc.want, res.body)
				}
				checkUIHeaders(t, tc.name, res)
				if s := b.cookie(e.ts.URL, web.CookieName); s != "" {
					t.Errorf("a session cookie after a refused sign-in")
				}
				if b.cookie(e.ts.URL, ssoCookie) != "" {
					t.Errorf("the sign-in cookie outlived the callback")
				}
			})
		}
		if _, err := e.store.GetUser(ctx, "nobody@example.com"); err == nil {
			t.Error("an unknown user was created without a default role")
		}

		e.checkLogs(append(idp.secrets(), signInCookie)...)
	})
}

// TestOIDCProvisioning: with a default role, an unknown user is made at
// the first sign-in, with that role and no password; the allowed domain
// keeps others out.
func TestOIDCProvisioning(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e, idp := newSSOEnv(t, db, func(o *web.OIDC) { o.DefaultRole = auth.RoleViewer; o.AllowedDomain = "Example.com" })
		idp.set(func(f *fakeIdP) { f.claims = map[string]any{"email": "grace@example.com", "email_verified": "true"} })
		for i := range 2 {
			b := newBrowser(t)
			res, at := b.get(t, e.ts.URL+"/auth/oidc/login?next=/vendors")
			if res.status != 200 || at.Path != "/vendors" || !strings.Contains(res.body, "grace@example.com") {
				t.Fatalf("sign-in %d: %d at %s: %.500s", i, res.status, at, res.body)
			}
			e.secrets = append(e.secrets, b.cookie(e.ts.URL, web.CookieName))
		}
		u, err := e.store.GetUser(ctx, "grace@example.com")
		if err != nil || u.Role != auth.RoleViewer || u.PasswordHash != "" || u.Disabled {
			t.Fatalf("the new user: %+v %v", u, err)
		}
		var creates []string
		if err := e.store.ScanAudit(ctx, store.AuditFilter{Object: "user:grace@example.com"}, func(en audit.Entry) error {
			creates = append(creates, en.Action+" "+en.Actor)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(creates, []string{"create user:grace@example.com", "link user:grace@example.com"}) {
			t.Errorf("audit of the new user: %v", creates)
		}
		if id, err := e.store.GetIdentity(ctx, idp.ts.URL, "sub-grace@example.com"); err != nil || id.User != "grace@example.com" {
			t.Errorf("the new user's account is not linked: %+v %v", id, err)
		}
		// No password: a password login is refused.
		if r := e.do(req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "grace@example.com", "password": password}}); r.status != 401 {
			t.Errorf("password login of a user made by sign-on: %d", r.status)
		}
		// Another domain, or an unverified address: refused, and no user made.
		for _, claims := range []map[string]any{
			{"email": "mallory@evil.example", "email_verified": true},
			{"email": "mallory@example.com.evil.example", "email_verified": true},
			{"email": "mallory@example.com", "email_verified": false},
		} {
			idp.set(func(f *fakeIdP) { f.claims = claims })
			res, _ := newBrowser(t).get(t, e.ts.URL+"/auth/oidc/login")
			if res.status != 403 {
				t.Errorf("%v: %d %.500s", claims, res.status, res.body)
			}
		}
		users, _ := e.svc.Users(ctx)
		for _, u := range users {
			if strings.HasPrefix(u.Name, "mallory") {
				t.Errorf("a refused sign-in made user %s", u.Name)
			}
		}
		e.checkLogs(idp.secrets()...)
	})
}

// TestOIDCUsernameClaim names users by another claim than email.
func TestOIDCUsernameClaim(t *testing.T) {
	e, idp := newSSOEnv(t, t.TempDir()+"/weaklink.db", func(o *web.OIDC) { o.UsernameClaim = "preferred_username" })
	e.user("bob", auth.RoleAuditor)
	idp.set(func(f *fakeIdP) { f.claims = map[string]any{"preferred_username": "Bob"} })
	res, at := newBrowser(t).get(t, e.ts.URL+"/auth/oidc/login")
	if res.status != 200 || at.Path != "/dashboard" || !strings.Contains(res.body, "(auditor)") {
		t.Errorf("sign-in as bob: %d at %s: %.500s", res.status, at, res.body)
	}
	idp.set(func(f *fakeIdP) { f.claims = map[string]any{"preferred_username": "Bob Smith"} })
	if res, _ := newBrowser(t).get(t, e.ts.URL+"/auth/oidc/login"); res.status != 403 || !strings.Contains(res.body, "cannot be a weaklink user name") {
		t.Errorf("an invalid name: %d %.500s", res.status, res.body)
	}
}

// TestOIDCConfig: a bad configuration stops the server with a precise
// error; without one, the routes say single sign-on is off; an
// unreachable provider or one with plain-http endpoints is a 502 page.
func TestOIDCConfig(t *testing.T) {
	svc := service.New(nil)
	good := web.OIDC{Issuer: "https://login.example.com/realms/acme", ClientID: "weaklink", ClientSecret: "s3cret",
		RedirectURL: "https://weaklink.example.com/auth/oidc/callback"}
	for _, tc := range []struct {
		edit func(*web.OIDC)
		want string
	}{
		{func(o *web.OIDC) { o.Issuer = "http://login.example.com" }, "use https (plain http only for an issuer on a loopback address)"},
		{func(o *web.OIDC) { o.Issuer = "login.example.com" }, "use an absolute URL"},
		{func(o *web.OIDC) { o.ClientID = "" }, "client ID: required"},
		{func(o *web.OIDC) { o.ClientSecret = "" }, "client secret: required"},
		{func(o *web.OIDC) { o.RedirectURL = "https://weaklink.example.com/callback" }, "its path must be /auth/oidc/callback"},
		{func(o *web.OIDC) { o.RedirectURL = "http://weaklink.example.com/auth/oidc/callback" }, "redirect URL"},
		{func(o *web.OIDC) { o.DefaultRole = auth.RoleAdmin }, "may be viewer, auditor or editor"},
		{func(o *web.OIDC) { o.DefaultRole = "viewr" }, `unknown role "viewr"`},
		{func(o *web.OIDC) { o.DefaultRole = auth.RoleEditor }, `default role "editor" needs an allowed domain (--oidc-allowed-domain)`},
		{func(o *web.OIDC) { o.AllowedDomain = "not a domain" }, "allowed domain"},
		{func(o *web.OIDC) { o.UsernameClaim = "e mail" }, "username claim"},
	} {
		o := good
		tc.edit(&o)
		_, err := web.New(web.Options{Service: svc, OIDC: &o})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", o, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the client secret: %v", err)
		}
	}
	o := good
	o.Issuer = "http://127.0.0.1:8443" // loopback: plain http allowed
	if _, err := web.New(web.Options{Service: svc, OIDC: &o}); err != nil {
		t.Errorf("a loopback issuer: %v", err)
	}

	// Off: no button, and the routes say so.
	srv, err := web.New(web.Options{Service: svc, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if rec := httptestRecorder(srv, "/login"); strings.Contains(rec.Body.String(), "single sign-on") {
		t.Error("the login page offers single sign-on without a provider")
	}
	for _, p := range []string{"/auth/oidc/login", "/auth/oidc/callback?code=x&state=y"} {
		if rec := httptestRecorder(srv, p); rec.Code != 404 || !strings.Contains(rec.Body.String(), "Single sign-on is not configured") {
			t.Errorf("%s without OIDC: %d %.300s", p, rec.Code, rec.Body.String())
		}
	}

	// A provider that does not answer, then one whose discovery names a
	// plain-http token endpoint off this machine.
	idp := newFakeIdP(t, time.Now)
	idp.set(func(f *fakeIdP) {
		f.discovery = func(d map[string]any) { d["token_endpoint"] = "http://idp.example/token" }
	})
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for issuer, want := range map[string]string{down.URL: "could not be reached", idp.ts.URL: "could not be reached"} {
		var logs syncBuffer
		o := good
		o.Issuer, o.ClientSecret = issuer, idp.secret
		srv, err := web.New(web.Options{Service: svc, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), OIDC: &o})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptestRecorder(srv, "/auth/oidc/login")
		if rec.Code != 502 || !strings.Contains(rec.Body.String(), want) || rec.Header().Get("Set-Cookie") != "" {
			t.Errorf("issuer %s: %d %.300s", issuer, rec.Code, rec.Body.String())
		}
		if issuer == idp.ts.URL && !strings.Contains(logs.String(), `token_endpoint \"http://idp.example/token\" is not an https URL`) {
			t.Errorf("the log does not say which endpoint: %s", logs.String())
		}
		if strings.Contains(logs.String(), idp.secret) {
			t.Error("the log holds the client secret")
		}
	}
}
