package service_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/sqlite"
	"github.com/weaklink/weaklink/internal/store/storetest"
)

func authService(t *testing.T) (*service.Service, *service.Logins, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	svc := service.New(s)
	svc.Now = clock.Now
	return svc, service.NewLogins(s, clock.Now), clock
}

const pw = "a perfectly fine passphrase"

func TestUsersAndTokens(t *testing.T) {
	svc, _, clock := authService(t)
	if _, _, err := svc.AddUser(ctx, "Ada", auth.RoleAdmin, "short"); !errors.Is(err, auth.ErrWeakPassword) {
		t.Errorf("weak password: %v", err)
	}
	if _, _, err := svc.AddUser(ctx, "-ada", auth.RoleAdmin, pw); !errors.Is(err, service.ErrInvalid) {
		t.Errorf("bad name: %v", err)
	}
	if _, _, err := svc.AddUser(ctx, "ada", "root", pw); !errors.Is(err, service.ErrInvalid) {
		t.Errorf("bad role: %v", err)
	}
	if users, _ := svc.Users(ctx); len(users) != 0 {
		t.Fatalf("refused adds stored users: %+v", users)
	}
	u, gen, err := svc.AddUser(ctx, "Ada", auth.RoleAdmin, "")
	if err != nil || u.Name != "ada" || gen == "" {
		t.Fatalf("AddUser = %+v, %q, %v", u, gen, err)
	}
	if ok, _, _ := auth.VerifyPassword(u.PasswordHash, gen); !ok {
		t.Error("the generated password does not verify")
	}
	if _, _, err := svc.AddUser(ctx, "ADA", auth.RoleViewer, pw); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate: %v", err)
	}
	svc.AddUser(ctx, "grace", auth.RoleAuditor, pw)

	// Tokens: the user's role by default, never beyond it.
	tok, sec, err := svc.CreateToken(ctx, service.TokenRequest{User: "grace", Name: "ci"})
	if err != nil || tok.Role != auth.RoleAuditor || !tok.ExpiresAt.Equal(clock.Now().Add(90*24*time.Hour)) || tok.ID != sec.ID {
		t.Fatalf("CreateToken = %+v, %v", tok, err)
	}
	_, _, err = svc.CreateToken(ctx, service.TokenRequest{User: "grace", Role: auth.RoleEditor})
	if !errors.Is(err, service.ErrInvalid) || !strings.Contains(err.Error(), "inventory:write") {
		t.Errorf("editor token of an auditor: %v", err)
	}
	for _, life := range []time.Duration{time.Second, 367 * 24 * time.Hour, -time.Hour} {
		if _, _, err := svc.CreateToken(ctx, service.TokenRequest{User: "grace", Lifetime: life}); !errors.Is(err, service.ErrInvalid) {
			t.Errorf("lifetime %v: %v", life, err)
		}
	}
	if _, _, err := svc.CreateToken(ctx, service.TokenRequest{User: "nobody"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of nobody: %v", err)
	}
	if ts, _ := svc.Tokens(ctx, ""); len(ts) != 1 {
		t.Errorf("refused tokens were stored: %+v", ts)
	}
	// Revoke by id, or by the whole token; not by anything else.
	if err := svc.RevokeToken(ctx, "grace"); !errors.Is(err, service.ErrInvalid) {
		t.Errorf("revoke of a non-id: %v", err)
	}
	if err := svc.RevokeToken(ctx, sec.Reveal()); err != nil {
		t.Fatal(err)
	}
	if err := svc.RevokeToken(ctx, tok.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second revoke: %v", err)
	}
}

func TestLogin(t *testing.T) {
	svc, logins, clock := authService(t)
	svc.AddUser(ctx, "ada", auth.RoleAdmin, pw)
	svc.AddUser(ctx, "grace", auth.RoleEditor, pw)
	const ip = "203.0.113.7"
	if _, _, err := logins.Login(ctx, "ada", "wrong password!", ip); !errors.Is(err, service.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := logins.Login(ctx, "nobody", pw, ip); !errors.Is(err, service.ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	x, sec, err := logins.Login(ctx, "ADA", pw, ip)
	if err != nil || x.User != "ada" || !x.ExpiresAt.Equal(clock.Now().Add(7*24*time.Hour)) {
		t.Fatalf("login = %+v, %v", x, err)
	}
	p, err := logins.Authenticate(ctx, sec.Reveal())
	if err != nil || p.User.Name != "ada" || p.Session == nil || !p.Can(auth.UsersAdmin) {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	// Touches are throttled, and keep the session alive past the idle limit.
	for range 10 {
		clock.Advance(7 * time.Hour)
		if _, err := logins.Authenticate(ctx, sec.Reveal()); err != nil {
			t.Fatalf("active session ended: %v", err)
		}
	}
	clock.Advance(8 * time.Hour)
	if _, err := logins.Authenticate(ctx, sec.Reveal()); !errors.Is(err, service.ErrUnauthenticated) {
		t.Errorf("idle session: %v", err)
	}
	// Five failures from one client: the sixth attempt is refused, even
	// with the right password; another client may still log in.
	for range 5 {
		logins.Login(ctx, "grace", "not her password", ip)
	}
	var rl *service.RateLimitedError
	if _, _, err := logins.Login(ctx, "grace", pw, ip); !errors.As(err, &rl) || rl.RetryAfter != 15*time.Minute {
		t.Errorf("sixth attempt: %v", err)
	}
	if _, _, err := logins.Login(ctx, "grace", pw, "198.51.100.1"); err != nil {
		t.Errorf("another client: %v", err)
	}
	clock.Advance(15 * time.Minute)
	_, gsec, err := logins.Login(ctx, "grace", pw, ip)
	if err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// Disabling ends her sessions; her tokens stop working until enabled.
	tok, tsec, err := svc.CreateToken(ctx, service.TokenRequest{User: "grace", Role: auth.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	tp, err := logins.Authenticate(ctx, tsec.Reveal())
	if err != nil || tp.Token == nil || tp.Token.LastUsed == nil || tp.Can(auth.InventoryWrite) || !tp.Can(auth.InventoryRead) {
		t.Fatalf("token principal = %+v, %v", tp, err)
	}
	svc.SetDisabled(ctx, "grace", true)
	for _, s := range []string{gsec.Reveal(), tsec.Reveal()} {
		if _, err := logins.Authenticate(ctx, s); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("a disabled user's secret: %v", err)
		}
	}
	if _, _, err := logins.Login(ctx, "grace", pw, "198.51.100.1"); !errors.Is(err, service.ErrBadCredentials) {
		t.Errorf("disabled login: %v", err)
	}
	svc.SetDisabled(ctx, "grace", false)
	if _, err := logins.Authenticate(ctx, gsec.Reveal()); !errors.Is(err, service.ErrUnauthenticated) {
		t.Error("a session outlived disabling")
	}
	if _, err := logins.Authenticate(ctx, tsec.Reveal()); err != nil {
		t.Errorf("token after enabling: %v", err)
	}
	// Demoting her narrows the token; revoking ends it.
	svc.SetRole(ctx, "grace", auth.RoleGateway)
	if tp, _ := logins.Authenticate(ctx, tsec.Reveal()); tp.Can(auth.InventoryRead) {
		t.Error("a viewer token of a gateway user reads the inventory")
	}
	svc.RevokeToken(ctx, tok.ID)
	for _, s := range []string{tsec.Reveal(), "wlt_garbage", "", "Bearer x", auth.NewTokenSecret().Reveal()} {
		if _, err := logins.Authenticate(ctx, s); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v", s, err)
		}
	}
	// Logout.
	_, asec, _ := logins.Login(ctx, "ada", pw, ip)
	if err := logins.Logout(ctx, asec.Reveal()); err != nil {
		t.Fatal(err)
	}
	if _, err := logins.Authenticate(ctx, asec.Reveal()); !errors.Is(err, service.ErrUnauthenticated) {
		t.Error("session outlived logout")
	}
	if err := logins.Logout(ctx, asec.Reveal()); err != nil {
		t.Errorf("second logout: %v", err)
	}
}

func TestLoginRehash(t *testing.T) {
	svc, logins, _ := authService(t)
	svc.AddUser(ctx, "ada", auth.RoleAdmin, pw)
	_, first, err := logins.Login(ctx, "ada", pw, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	// Her hash, as an older weaklink made it.
	old, _ := (auth.Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}).Hash(pw)
	if _, err := svc.Store.UpdateUser(ctx, "ada", store.UserUpdate{PasswordHash: &old, Rehash: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := logins.Login(ctx, "ada", pw, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	u, _ := svc.Store.GetUser(ctx, "ada")
	if auth.DefaultParams.NeedsRehash(u.PasswordHash) || u.PasswordHash == old {
		t.Errorf("hash not upgraded at login: %s", u.PasswordHash[:32])
	}
	// Her other session survives the rehash.
	if _, err := logins.Authenticate(ctx, first.Reveal()); err != nil {
		t.Errorf("session after rehash: %v", err)
	}
}
