package web

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/weaklink/weaklink/internal/textutil"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
)

// Single sign-on with an OpenID Connect provider (docs/auth.md, "Single
// sign-on (OIDC)"): the authorization code flow with PKCE (S256), a state
// and a nonce. GET /auth/oidc/login sends the browser to the provider with
// a short-lived signed cookie holding the state, the nonce, the PKCE
// verifier and the page to return to; GET /auth/oidc/callback checks the
// state against the cookie, exchanges the code (with the verifier and the
// client secret), verifies the ID token (signature against the provider's
// JWKS, issuer, audience, expiry and issue time, nonce), maps a claim to a
// local user and starts an ordinary session for it. The provider says who
// someone is; the local user's role says what they may do.
//
// Discovery, JWKS caching and signature checks are github.com/coreos/go-oidc;
// the code exchange is golang.org/x/oauth2. Both are the ecosystem's
// standard, and a hand-written JOSE verifier is not something to own.

// OIDC configures single sign-on (serve --oidc-issuer and friends).
type OIDC struct {
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document (Issuer + "/.well-known/openid-configuration") says. It
	// must be https, unless its host is a loopback address (tests).
	Issuer   string
	ClientID string
	// ClientSecret authenticates weaklink to the provider's token
	// endpoint and keys the signature of the sign-in cookie. Never logged.
	ClientSecret string
	// RedirectURL is this server's external URL of /auth/oidc/callback,
	// as registered with the provider.
	RedirectURL string
	// UsernameClaim is the ID token claim whose value names the local user
	// at an account's first sign-in ("": email); later sign-ins go to the
	// user the account (iss, sub) was linked to. The email claim counts
	// only with email_verified true.
	UsernameClaim string
	// AllowedDomain, when set, admits only ID tokens whose username claim
	// is an address in this domain or, when that claim is not an address,
	// whose verified email is; and whose hd claim, when there is one, is
	// this domain. Compared exactly, as lowercase ASCII.
	AllowedDomain string
	// DefaultRole, when set, creates a user of this role for a name that
	// has none; "" refuses such sign-ins. Admin and gateway are refused,
	// and it needs AllowedDomain.
	DefaultRole auth.Role
	// LinkExisting lets an account's first sign-in link an existing user
	// that has a password when the user's name is the account's verified
	// email address; without it, an admin links such users (weaklink users
	// link-sso).
	LinkExisting bool
}

const (
	// ssoCookieName holds a sign-in in progress. __Host-: Secure, Path=/,
	// no Domain, so no subdomain can plant one.
	ssoCookieName = "__Host-weaklink_oidc"
	// ssoLifetime is how long a sign-in may take at the provider.
	ssoLifetime = 10 * time.Minute
	// ssoSkew is the clock difference tolerated with the provider on the
	// ID token's exp and iat.
	ssoSkew = time.Minute
	// ssoTimeout bounds each request to the provider.
	ssoTimeout = 10 * time.Second
	// ssoMaxBody bounds what the provider may send (discovery, JWKS,
	// tokens).
	ssoMaxBody = 1 << 20
	// ssoCallbackPath is the route of the callback.
	ssoCallbackPath = "/auth/oidc/callback"
	// ssoMaxNext bounds the page to return to, which travels in the
	// sign-in cookie: a longer one goes to the home page instead.
	ssoMaxNext = 1024
)

var (
	claimNameRe = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	domainRe    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
	oauthCodeRe = regexp.MustCompile(`^[a-z_]{1,40}$`)
)

// Check validates the configuration and fills in its defaults. New calls
// it; serve calls it first, to refuse bad flags before opening anything.
func (o *OIDC) Check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("OIDC "+format, args...)) }
	if o.Issuer == "" {
		bad("issuer: required")
	} else if u, err := url.Parse(o.Issuer); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		bad("issuer %q: use an absolute URL without query, fragment or credentials (https://login.example.com/realms/acme)", o.Issuer)
	} else if !secureOrLoopback(u) {
		bad("issuer %q: use https (plain http only for an issuer on a loopback address)", o.Issuer)
	}
	if o.ClientID == "" {
		bad("client ID: required")
	}
	if o.ClientSecret == "" {
		bad("client secret: required")
	}
	if o.RedirectURL == "" {
		bad("redirect URL: required (this server's external URL of %s)", ssoCallbackPath)
	} else if u, err := url.Parse(o.RedirectURL); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		bad("redirect URL %q: use an absolute URL without query or fragment (https://weaklink.example.com%s)", o.RedirectURL, ssoCallbackPath)
	} else if !secureOrLoopback(u) {
		bad("redirect URL %q: use https (plain http only on a loopback address): the session cookie is Secure", o.RedirectURL)
	} else if u.Path != ssoCallbackPath {
		bad("redirect URL %q: its path must be %s", o.RedirectURL, ssoCallbackPath)
	}
	if o.UsernameClaim == "" {
		o.UsernameClaim = "email"
	} else if !claimNameRe.MatchString(o.UsernameClaim) {
		bad("username claim %q: use a claim name (email, preferred_username, upn)", o.UsernameClaim)
	}
	if o.AllowedDomain != "" {
		d := strings.ToLower(strings.TrimPrefix(o.AllowedDomain, "@"))
		if !domainRe.MatchString(d) {
			bad("allowed domain %q: use a domain name (example.com)", o.AllowedDomain)
		}
		o.AllowedDomain = d
	}
	switch o.DefaultRole {
	case "":
	case auth.RoleViewer, auth.RoleAuditor, auth.RoleEditor:
		if o.AllowedDomain == "" {
			bad("default role %q needs an allowed domain (--oidc-allowed-domain): without one, anyone with an account at the provider would become a %s", o.DefaultRole, o.DefaultRole)
		}
	case auth.RoleAdmin, auth.RoleGateway:
		bad("default role %q: users made by single sign-on may be viewer, auditor or editor; promote them with weaklink users set-role", o.DefaultRole)
	default:
		if _, err := auth.ParseRole(string(o.DefaultRole)); err != nil {
			bad("default role: %v", err)
		}
	}
	return errors.Join(errs...)
}

// secureOrLoopback reports whether a URL is https, or http to a loopback
// host: the only plain-text traffic allowed never leaves the machine.
func secureOrLoopback(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		if strings.EqualFold(h, "localhost") {
			return true
		}
		ip := net.ParseIP(h)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// sso is the server's OIDC client. Discovery happens at the first sign-in
// (and again after a failure), so a provider that is down when serve starts
// does not stop the server, and password logins work throughout.
type sso struct {
	cfg  OIDC
	key  []byte // signs the sign-in cookie
	http *http.Client
	log  *slog.Logger
	now  func() time.Time

	// disc is the provider's discovery, fetched at the first sign-in
	// (oidc_state.go).
	disc onceRetry[discovered]
	// used are the states of finished sign-ins, until their cookie
	// expires: a replayed callback is refused even with its cookie.
	used *replaySet
}

// discovered is what discovery gives: the code exchange and the ID
// token verifier.
type discovered struct {
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newSSO(o *OIDC, log *slog.Logger, now func() time.Time) (*sso, error) {
	if o == nil {
		return nil, nil
	}
	cfg := *o
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	key, err := hkdf.Key(sha256.New, []byte(cfg.ClientSecret), nil, "weaklink oidc sign-in cookie\x00"+cfg.Issuer+"\x00"+cfg.ClientID, 32)
	if err != nil {
		return nil, fmt.Errorf("web: OIDC cookie key: %w", err)
	}
	log.Info("oidc: single sign-on on", "issuer", cfg.Issuer, "client_id", cfg.ClientID, "username_claim", cfg.UsernameClaim,
		"default_role", string(cfg.DefaultRole), "allowed_domain", cfg.AllowedDomain, "link_existing", cfg.LinkExisting)
	return &sso{cfg: cfg, key: key, http: ssoHTTPClient(), log: log, now: now, used: newReplaySet(ssoMaxFinished)}, nil
}

// ssoHTTPClient talks to the provider: a timeout, bounded bodies, and
// redirects only to https (or loopback) URLs.
func ssoHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{
		Timeout:   ssoTimeout,
		Transport: limitedBodies{t},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("more than 3 redirects")
			}
			if !secureOrLoopback(req.URL) {
				return fmt.Errorf("redirect to %s refused: https only", req.URL.Redacted())
			}
			return nil
		},
	}
}

type limitedBodies struct{ rt http.RoundTripper }

func (l limitedBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := l.rt.RoundTrip(r)
	if err == nil {
		res.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(res.Body, ssoMaxBody), res.Body}
	}
	return res, err
}

// discover fetches the provider's discovery document once for all
// concurrent sign-ins (again after a failure), holding no lock while it
// waits for the provider.
func (o *sso) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	d, err := o.disc.get(ctx, o.fetchDiscovery)
	return d.oauth, d.verifier, err
}

// fetchDiscovery reads the discovery document and checks that its
// endpoints are https (or loopback).
func (o *sso) fetchDiscovery(ctx context.Context) (discovered, error) {
	ctx, cancel := context.WithTimeout(ctx, ssoTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.http), o.cfg.Issuer)
	if err != nil {
		return discovered{}, err
	}
	var meta struct {
		JWKS        string   `json:"jwks_uri"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return discovered{}, err
	}
	ep := p.Endpoint()
	for _, e := range []struct{ name, url string }{{"authorization_endpoint", ep.AuthURL}, {"token_endpoint", ep.TokenURL}, {"jwks_uri", meta.JWKS}} {
		u, err := url.Parse(e.url)
		if e.url == "" || err != nil || u.Host == "" || !secureOrLoopback(u) {
			return discovered{}, fmt.Errorf("the discovery document's %s %q is not an https URL", e.name, e.url)
		}
	}
	// client_secret_basic is the default (OpenID Connect Discovery 1.0);
	// no auto-detection, which would send a code twice.
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if len(meta.AuthMethods) > 0 && !slices.Contains(meta.AuthMethods, "client_secret_basic") && slices.Contains(meta.AuthMethods, "client_secret_post") {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	oc := &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: ep,
		RedirectURL: o.cfg.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	// Now runs ssoSkew behind: an ID token is accepted until ssoSkew
	// after its exp.
	v := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: func() time.Time { return o.now().Add(-ssoSkew) }})
	return discovered{oc, v}, nil
}

// ssoState is a sign-in in progress, in its cookie.
type ssoState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"r"`
	Expires  int64  `json:"e"`
}

func (o *sso) mac(payload string) []byte {
	m := hmac.New(sha256.New, o.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func (o *sso) seal(st ssoState) string {
	b, _ := json.Marshal(st)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(o.mac(p))
}

// open checks a cookie's signature and expiry.
func (o *sso) open(v string) (ssoState, bool) {
	var st ssoState
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return st, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, o.mac(p)) {
		return st, false
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(b, &st) != nil || st.State == "" || st.Nonce == "" || st.Verifier == "" {
		return st, false
	}
	return st, o.now().Unix() < st.Expires
}

func ssoCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: ssoCookieName, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// uiSSOLogin starts a sign-in: a new state, nonce and PKCE verifier in the
// cookie, and a redirect to the provider.
func (s *Server) uiSSOLogin(c *uiCall) {
	if s.sso == nil {
		s.uiError(c.w, c.r, c.p, http.StatusNotFound, "Single sign-on is not configured on this server: log in with your user name and password.")
		return
	}
	oc, _, err := s.sso.discover(c.ctx)
	if err != nil {
		s.log.Warn("oidc: discovery failed", "issuer", s.sso.cfg.Issuer, "err", err.Error())
		s.uiError(c.w, c.r, c.p, http.StatusBadGateway, "The identity provider "+s.sso.cfg.Issuer+" could not be reached or sent an unusable discovery document; the server log has the details. Try again later, or log in with your password.")
		return
	}
	if wait, full := s.sso.used.full(s.now()); full {
		s.ssoBusy(c, wait)
		return
	}
	raw := c.r.URL.Query().Get("next")
	next := safeNext(raw)
	if strings.HasPrefix(next, "/auth/") || len(raw) > ssoMaxNext || len(next) > ssoMaxNext {
		next = safeNext("") // not back into a sign-in, nor a cookie of any size
	}
	st := ssoState{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(),
		Next: next, Expires: s.now().Add(ssoLifetime).Unix()}
	http.SetCookie(c.w, ssoCookie(s.sso.seal(st), int(ssoLifetime.Seconds())))
	http.Redirect(c.w, c.r, oc.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

// ssoBusy refuses a sign-in while the replay set is full.
func (s *Server) ssoBusy(c *uiCall, wait time.Duration) {
	s.log.Warn("oidc: sign-in refused", "reason", "too many sign-ins in progress", "finished", s.sso.used.size())
	c.w.Header().Set("Retry-After", retryAfterSeconds(wait))
	s.uiError(c.w, c.r, nil, http.StatusServiceUnavailable, ssoBusyMessage)
}

const ssoBusyMessage = "Too many single sign-ins are in progress on this server. Try again in a few minutes, or log in with your password."

// ssoRefusal is a failed sign-in: its status, the page's message, and a
// short reason for the log.
type ssoRefusal struct {
	status int
	msg    string
	reason string
	// retry, when set, goes in a Retry-After header.
	retry time.Duration
	// subject is the account's sub, logged so that an admin can link it.
	subject string
}

// uiSSOCallback finishes a sign-in. Whatever happens, the sign-in
// cookie is cleared: a sign-in is tried once.
func (s *Server) uiSSOCallback(c *uiCall) {
	if s.sso == nil {
		s.uiError(c.w, c.r, c.p, http.StatusNotFound, "Single sign-on is not configured on this server: log in with your user name and password.")
		return
	}
	http.SetCookie(c.w, ssoCookie("", -1))
	user, next, ref := s.ssoFinish(c)
	if ref != nil {
		if ref.subject != "" {
			s.log.Warn("oidc: sign-in refused", "reason", ref.reason, "user", user, "issuer", s.sso.cfg.Issuer, "subject", ref.subject)
		} else {
			s.log.Warn("oidc: sign-in refused", "reason", ref.reason, "user", user)
		}
		if ref.retry > 0 {
			c.w.Header().Set("Retry-After", retryAfterSeconds(ref.retry))
		}
		s.uiError(c.w, c.r, nil, ref.status, ref.msg)
		return
	}
	http.Redirect(c.w, c.r, next, http.StatusSeeOther)
}

func (s *Server) ssoFinish(c *uiCall) (user, next string, _ *ssoRefusal) {
	refuse := func(status int, reason, msg string) (string, string, *ssoRefusal) {
		return user, "", &ssoRefusal{status: status, msg: msg, reason: reason}
	}
	const again = " Start again from the login page."
	q := c.r.URL.Query()
	ck, err := c.r.Cookie(ssoCookieName)
	if err != nil {
		return refuse(http.StatusBadRequest, "no sign-in cookie", "This browser has no sign-in in progress (its cookie is missing or has expired after "+ssoLifetime.String()+")."+again)
	}
	st, ok := s.sso.open(ck.Value)
	if !ok {
		return refuse(http.StatusBadRequest, "bad or expired sign-in cookie", "The sign-in cookie is invalid or has expired (a sign-in may take "+ssoLifetime.String()+")."+again)
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		return refuse(http.StatusBadRequest, "state mismatch", "The provider's answer does not belong to the sign-in this browser started (state mismatch)."+again)
	}
	// A callback seen before stops here; the state is marked finished
	// once the ID token is verified (below), so that filling the replay
	// set takes real sign-ins at the provider, not forged callbacks.
	if s.sso.used.seen(st.State, s.now()) {
		return refuse(http.StatusBadRequest, "sign-in replayed", "This sign-in has been used already."+again)
	}
	if e := q.Get("error"); e != "" {
		if !oauthCodeRe.MatchString(e) {
			e = "unknown error"
		}
		return refuse(http.StatusUnauthorized, "provider error "+e, "The identity provider did not sign you in ("+e+")."+again)
	}
	code := q.Get("code")
	if code == "" {
		return refuse(http.StatusBadRequest, "no code", "The provider's answer has no authorization code."+again)
	}
	oc, verifier, err := s.sso.discover(c.ctx)
	if err != nil {
		s.log.Warn("oidc: discovery failed", "issuer", s.sso.cfg.Issuer, "err", err.Error())
		return refuse(http.StatusBadGateway, "discovery failed", "The identity provider could not be reached; the server log has the details.")
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(c.ctx, s.sso.http), ssoTimeout)
	defer cancel()
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		// A RetrieveError's text holds the response body: log its code only.
		var re *oauth2.RetrieveError
		why := "the token endpoint did not answer"
		if errors.As(err, &re) {
			why = fmt.Sprintf("the token endpoint answered %d %s", re.Response.StatusCode, re.ErrorCode)
		} else {
			s.log.Warn("oidc: token request failed", "err", err.Error())
		}
		return refuse(http.StatusBadGateway, why, "The identity provider did not exchange the authorization code for an ID token ("+why+")."+again)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return refuse(http.StatusBadGateway, "no id_token", "The identity provider's token response has no ID token (is the openid scope allowed for this client?).")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		why := strings.TrimPrefix(err.Error(), "oidc: ")
		if errors.As(err, &exp) {
			why = "it expired at " + exp.Expiry.UTC().Format(time.RFC3339)
		}
		return refuse(http.StatusUnauthorized, "ID token refused: "+why, "The identity provider's ID token was refused: "+why+"."+again)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return refuse(http.StatusUnauthorized, "nonce mismatch", "The ID token was made for another sign-in (nonce mismatch)."+again)
	}
	switch fresh, wait, err := s.sso.used.consume(st.State, time.Unix(st.Expires, 0), s.now()); {
	case err != nil:
		return user, "", &ssoRefusal{status: http.StatusServiceUnavailable, msg: ssoBusyMessage, reason: "too many sign-ins in progress", retry: wait}
	case !fresh:
		return refuse(http.StatusBadRequest, "sign-in replayed", "This sign-in has been used already."+again)
	}
	if idt.Subject == "" {
		return refuse(http.StatusUnauthorized, "no sub", "The ID token has no subject (sub)."+again)
	}
	now := s.now()
	switch {
	case idt.IssuedAt.IsZero():
		return refuse(http.StatusUnauthorized, "no iat", "The ID token has no issue time (iat)."+again)
	case idt.IssuedAt.After(now.Add(ssoSkew)):
		return refuse(http.StatusUnauthorized, "iat in the future", "The ID token was issued in the future ("+idt.IssuedAt.UTC().Format(time.RFC3339)+"): check the clocks."+again)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return refuse(http.StatusUnauthorized, "claims unreadable", "The ID token's claims could not be read."+again)
	}
	if len(idt.Audience) > 1 {
		if azp, _ := claims["azp"].(string); azp != s.sso.cfg.ClientID {
			return refuse(http.StatusUnauthorized, "azp mismatch", "The ID token has several audiences and was not issued to this server (azp)."+again)
		}
	}
	id, ref := s.sso.identity(idt.Issuer, idt.Subject, claims)
	if ref != nil {
		return user, "", ref
	}
	user = id.Name
	in, err := s.logins.SingleSignOn(c.ctx, id, service.SSOPolicy{CreateRole: s.sso.cfg.DefaultRole, LinkExisting: s.sso.cfg.LinkExisting})
	if in.User.Name != "" {
		user = in.User.Name
	}
	if ref := s.sso.refusal(err, id, user); ref != nil {
		if ref.status == http.StatusInternalServerError {
			s.log.Error("oidc: session", "user", user, "err", err.Error())
		}
		return user, "", ref
	}
	u, x, sec := in.User, in.Session, in.Secret
	if in.Created {
		s.log.Info("oidc: user created", "user", u.Name, "role", string(u.Role))
	}
	if in.Linked {
		s.log.Info("oidc: account linked", "user", u.Name, "issuer", id.Issuer, "subject", id.Subject)
	}
	if c.p != nil && c.p.Session != nil { // a previous session in this browser ends
		if err := s.logins.Logout(c.ctx, c.secret); err == nil {
			s.cache.clear()
		}
	}
	s.setSessionCookie(c.w, x, sec)
	if rec, ok := c.w.(*recorder); ok {
		rec.actor = "user:" + u.Name
	}
	return u.Name, st.Next, nil
}

// refusal maps SingleSignOn's refusals to the page's message.
func (o *sso) refusal(err error, id service.SSOIdentity, user string) *ssoRefusal {
	ref := func(status int, reason, msg string) *ssoRefusal {
		return &ssoRefusal{status: status, msg: msg, reason: reason, subject: id.Subject}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, service.ErrUnknownUser):
		return ref(http.StatusForbidden, "unknown user", "The identity provider signed you in as "+user+", but weaklink has no user of that name. Ask an admin to add one.")
	case errors.Is(err, service.ErrUserDisabled):
		return ref(http.StatusForbidden, "user disabled", "The weaklink user "+user+" is disabled. Ask an admin to enable it.")
	case errors.Is(err, service.ErrIdentityMismatch):
		return ref(http.StatusForbidden, "linked to another account",
			"The weaklink user "+user+" is linked to another account at this identity provider, so yours cannot sign in as it. "+
				"If that account was replaced, an admin can unlink it: weaklink users unlink-sso "+user+" --issuer "+id.Issuer)
	case errors.Is(err, service.ErrLinkRequired):
		return ref(http.StatusForbidden, "link required",
			"The weaklink user "+user+" has a password and is not linked to your account at this identity provider. "+
				"Log in with the password, or ask an admin to link your account: weaklink users link-sso "+user+" --issuer "+id.Issuer+" --subject "+id.Subject)
	case errors.Is(err, service.ErrInvalid):
		return ref(http.StatusForbidden, "bad user name", "The identity provider names you "+id.Name+", which cannot be a weaklink user name: "+err.Error()+".")
	}
	return ref(http.StatusInternalServerError, "internal", "The session could not be started; the server log has the details.")
}

// identity reads who the ID token says someone is: the account (iss,
// sub), the name the configured claim gives (with the email_verified
// rule) and the verified email, and applies the allowed domain.
func (o *sso) identity(issuer, subject string, claims map[string]any) (service.SSOIdentity, *ssoRefusal) {
	refuse := func(status int, reason, msg string) (service.SSOIdentity, *ssoRefusal) {
		return service.SSOIdentity{}, &ssoRefusal{status: status, msg: msg, reason: reason}
	}
	claim := o.cfg.UsernameClaim
	v, ok := claims[claim].(string)
	if !ok || strings.TrimSpace(v) == "" {
		return refuse(http.StatusForbidden, "no "+claim+" claim", "The ID token has no "+claim+" claim to name a weaklink user: ask the provider's admin to release it to this client.")
	}
	email, _ := claims["email"].(string)
	verified := false
	switch ev := claims["email_verified"].(type) {
	case bool:
		verified = ev
	case string: // some providers send "true"
		verified = ev == "true"
	}
	if claim == "email" && !verified {
		return refuse(http.StatusForbidden, "email not verified", "The identity provider has not verified the email address "+v+" (email_verified is not true), so it cannot name a weaklink user.")
	}
	if d := o.cfg.AllowedDomain; d != "" {
		// The claim that names the user when it is an address; the
		// verified email otherwise.
		what, addr := "the "+claim+" claim", v
		if !strings.Contains(v, "@") {
			what, addr = "the verified email address", email
			if !verified {
				addr = ""
			}
		}
		if got, ok := emailDomain(addr); !ok || got != d {
			return refuse(http.StatusForbidden, "domain not allowed", "Only addresses at "+d+" may sign in here, and "+what+" is not one.")
		}
		if hd, present := claims["hd"]; present {
			if h, _ := hd.(string); !textutil.IsASCII(h) || strings.ToLower(h) != d {
				return refuse(http.StatusForbidden, "hd not allowed", "Only accounts of the "+d+" domain may sign in here, and the provider's hd claim says yours is not one.")
			}
		}
	}
	if !textutil.IsASCII(v) { // no case folding may turn it into another name (the Kelvin sign K)
		return refuse(http.StatusForbidden, "bad user name", "The identity provider names you "+v+", which cannot be a weaklink user name: use ASCII letters, digits and . _ @ + -.")
	}
	if !verified {
		email = ""
	}
	return service.SSOIdentity{Issuer: issuer, Subject: subject, Name: v, VerifiedEmail: email}, nil
}

// emailDomain is the domain of an address, lowercased; false unless it is
// ASCII (strings.EqualFold would fold ſ into s and K into k).
func emailDomain(addr string) (string, bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 1 || at == len(addr)-1 || !textutil.IsASCII(addr) {
		return "", false
	}
	return strings.ToLower(addr[at+1:]), true
}
