package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// TestOneTimePasswords: what an admin gives is one-time unless a chosen
// password is said to stay; a generated one always is.
func TestOneTimePasswords(t *testing.T) {
	svc, _, _ := authService(t)
	for _, tc := range []struct {
		name string
		p    service.AdminPassword
		once bool
	}{
		{"generated", service.AdminPassword{}, true},
		{"chosen", service.AdminPassword{Password: pw}, true},
		{"kept", service.AdminPassword{Password: pw, NoChangeRequired: true}, false},
	} {
		u, gen, err := svc.AddUserWith(ctx, tc.name, auth.RoleViewer, tc.p)
		if err != nil || u.MustChangePassword != tc.once || (gen != "") != (tc.p.Password == "") {
			t.Errorf("add %s: %+v %q %v", tc.name, u, gen, err)
		}
		if stored, _ := svc.Store.GetUser(ctx, tc.name); stored.MustChangePassword != tc.once {
			t.Errorf("add %s: stored %+v", tc.name, stored)
		}
		// Setting the password again as an admin follows the same rule.
		if _, _, err := svc.SetPasswordWith(ctx, tc.name, service.AdminPassword{Password: pw + " two", NoChangeRequired: !tc.once}); err != nil {
			t.Fatal(err)
		}
		u, _, err = svc.SetPassword(ctx, tc.name, "")
		if err != nil || !u.MustChangePassword {
			t.Errorf("passwd %s: %+v %v", tc.name, u, err)
		}
	}
	if u, _, err := svc.AddUser(ctx, "plain", auth.RoleViewer, pw); err != nil || !u.MustChangePassword {
		t.Errorf("AddUser with a password: %+v %v", u, err)
	}
	if u, _, err := svc.SetPasswordWith(ctx, "plain", service.AdminPassword{Password: pw + " three", NoChangeRequired: true}); err != nil || u.MustChangePassword {
		t.Errorf("a chosen password that stays: %+v %v", u, err)
	}
	// A generated password that need not be changed: refused, nothing made.
	if _, _, err := svc.AddUserWith(ctx, "eve", auth.RoleViewer, service.AdminPassword{NoChangeRequired: true}); !errors.Is(err, service.ErrInvalid) ||
		!strings.Contains(err.Error(), "always one-time") {
		t.Errorf("generated, no change required: %v", err)
	}
	if _, err := svc.Store.GetUser(ctx, "eve"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused add stored a user: %v", err)
	}
	before, _ := svc.Store.GetUser(ctx, "plain")
	if _, _, err := svc.SetPasswordWith(ctx, "plain", service.AdminPassword{NoChangeRequired: true}); !errors.Is(err, service.ErrInvalid) {
		t.Errorf("passwd generated, no change required: %v", err)
	}
	if after, _ := svc.Store.GetUser(ctx, "plain"); after != before {
		t.Error("a refused passwd changed the user")
	}
	if u, err := svc.RequirePasswordChange(ctx, "plain"); err != nil || !u.MustChangePassword || u.PasswordHash != before.PasswordHash {
		t.Errorf("RequirePasswordChange: %+v %v", u, err)
	}
}

func TestChangePassword(t *testing.T) {
	svc, logins, clock := authService(t)
	u, gen, err := svc.AddUser(ctx, "ada", auth.RoleAdmin, "")
	if err != nil || !u.MustChangePassword {
		t.Fatal(u, err)
	}
	const ip = "203.0.113.7"
	x, sec, err := logins.Login(ctx, "ada", gen, ip)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := logins.Authenticate(ctx, sec.Reveal()); err != nil || !p.User.MustChangePassword {
		t.Fatalf("the principal does not carry the flag: %+v %v", p, err)
	}
	_, other, _ := logins.Login(ctx, "ada", gen, "198.51.100.1") // another browser
	const mine = "my own memorable passphrase"
	unchanged := func(what string) {
		t.Helper()
		now, _ := svc.Store.GetUser(ctx, "ada")
		if now != u {
			t.Errorf("%s changed the user", what)
		}
		if _, err := logins.Authenticate(ctx, sec.Reveal()); err != nil {
			t.Errorf("%s ended the session: %v", what, err)
		}
	}
	u, _ = svc.Store.GetUser(ctx, "ada")
	for _, tc := range []struct {
		what, current, next string
		want                error
		msg                 string
	}{
		{"the same password", gen, gen, service.ErrSamePassword, "the new password is the current one"},
		{"a weak password", gen, "short", auth.ErrWeakPassword, "5 characters; use at least 15"},
		{"a common password", gen, "password1234567", auth.ErrWeakPassword, "most common passwords"},
		{"a wrong current password", "not the password at all", mine, service.ErrWrongPassword, "the current password is wrong"},
	} {
		_, _, _, err := logins.ChangePassword(ctx, "ada", tc.current, tc.next, ip)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %v", tc.what, err, tc.want)
		}
		unchanged(tc.what)
	}
	// A user without a password has nothing to change.
	svc.Store.CreateUser(ctx, auth.User{Name: "sso", Role: auth.RoleViewer})
	if _, _, _, err := logins.ChangePassword(ctx, "sso", "", mine, ip); !errors.Is(err, service.ErrInvalid) || !strings.Contains(err.Error(), "no password") {
		t.Errorf("no password: %v", err)
	}

	// Wrong current passwords count as failed logins: with the one above,
	// five lock this client out, even with the right password.
	for range 4 {
		logins.ChangePassword(ctx, "ada", "still not the password", mine, ip)
	}
	var rl *service.RateLimitedError
	if _, _, _, err := logins.ChangePassword(ctx, "ada", gen, mine, ip); !errors.As(err, &rl) {
		t.Errorf("sixth attempt: %v", err)
	}
	unchanged("a rate-limited change")
	clock.Advance(15 * time.Minute)

	// Success: the flag goes, every session ends, a new one starts.
	got, nx, nsec, err := logins.ChangePassword(audit.WithActor(ctx, "ignored"), "ADA", gen, mine, ip)
	if err != nil || got.MustChangePassword || nx.User != "ada" || nx.ID == x.ID || nsec.ID != nx.ID {
		t.Fatalf("change: %+v %+v %v", got, nx, err)
	}
	for _, s := range []string{sec.Reveal(), other.Reveal()} {
		if _, err := logins.Authenticate(ctx, s); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("a session outlived the change: %v", err)
		}
	}
	if p, err := logins.Authenticate(ctx, nsec.Reveal()); err != nil || p.User.MustChangePassword {
		t.Errorf("the new session: %+v %v", p, err)
	}
	if _, _, err := logins.Login(ctx, "ada", gen, ip); !errors.Is(err, service.ErrBadCredentials) {
		t.Errorf("the one-time password still works: %v", err)
	}
	if _, _, err := logins.Login(ctx, "ada", mine, ip); err != nil {
		t.Errorf("the new password: %v", err)
	}
	// The audit log: the user did it; the flag, never the password.
	entries, _, err := svc.AuditEntries(ctx, store.AuditFilter{Object: "user:ada"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Actor != "user:ada" || string(last.Before) != `{"must_change_password":true}` ||
		string(last.After) != `{"must_change_password":false,"password":"changed"}` {
		t.Errorf("audit entry: %s %s %s", last.Actor, last.Before, last.After)
	}
	all, _, _ := svc.AuditEntries(ctx, store.AuditFilter{}, 1000)
	for _, e := range all {
		for _, s := range []string{gen, mine} {
			if strings.Contains(string(e.Before)+string(e.After), s) {
				t.Errorf("entry %d holds a password", e.Seq)
			}
		}
	}
	// Changing one's own password again never sets the flag.
	if u, _, _, err := logins.ChangePassword(ctx, "ada", mine, mine+" again", ip); err != nil || u.MustChangePassword {
		t.Errorf("second change: %+v %v", u, err)
	}
}

// TestRequirePasswordChangeNoPassword: a forced change of a user without
// a password (single sign-on) is refused, precisely, and changes nothing.
func TestRequirePasswordChangeNoPassword(t *testing.T) {
	svc, _, _ := authService(t)
	if _, err := svc.Store.CreateUser(ctx, auth.User{Name: "sso", Role: auth.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	before, _ := svc.Store.GetUser(ctx, "sso")
	_, err := svc.RequirePasswordChange(ctx, "SSO")
	if !errors.Is(err, service.ErrInvalid) || !strings.Contains(err.Error(), "user sso has no password (it signs in by single sign-on), so there is none to change") {
		t.Errorf("forced change without a password: %v", err)
	}
	if after, _ := svc.Store.GetUser(ctx, "sso"); after != before {
		t.Errorf("the refusal changed the user: %+v", after)
	}
	if _, err := svc.RequirePasswordChange(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
}

// resetMeanwhile is the real store, with an admin's password reset run
// just before a user's own change reaches it: the interleaving a
// read-then-write change would lose.
type resetMeanwhile struct {
	store.Store
	reset func()
}

func (r resetMeanwhile) ChangePassword(c context.Context, name, oldHash, newHash string, x auth.Session) (auth.User, error) {
	r.reset()
	return r.Store.ChangePassword(c, name, oldHash, newHash, x)
}

// TestChangePasswordAdminResetMeanwhile: an admin's reset between the
// check of the current password and the write is not overwritten; the
// change fails with ErrPasswordChanged and leaves the admin's password,
// its flag, and no new session.
func TestChangePasswordAdminResetMeanwhile(t *testing.T) {
	svc, _, clock := authService(t)
	if _, _, err := svc.AddUserWith(ctx, "ada", auth.RoleAdmin, service.AdminPassword{Password: pw, NoChangeRequired: true}); err != nil {
		t.Fatal(err)
	}
	const reset, mine = "an admin's brand new passphrase", "my own memorable passphrase"
	logins := service.NewLogins(resetMeanwhile{svc.Store, func() {
		if _, _, err := svc.SetPasswordWith(ctx, "ada", service.AdminPassword{Password: reset}); err != nil {
			t.Fatal(err)
		}
	}}, clock.Now)
	_, _, sec, err := logins.ChangePassword(ctx, "ada", pw, mine, "203.0.113.7")
	if !errors.Is(err, service.ErrPasswordChanged) || !errors.Is(err, store.ErrConflict) || sec.ID != "" {
		t.Fatalf("change after a reset: %v", err)
	}
	plain := service.NewLogins(svc.Store, clock.Now)
	if _, _, err := plain.Login(ctx, "ada", mine, "203.0.113.7"); !errors.Is(err, service.ErrBadCredentials) {
		t.Errorf("the user's new password overwrote the reset: %v", err)
	}
	if u, _ := svc.Store.GetUser(ctx, "ada"); !u.MustChangePassword {
		t.Errorf("the reset's one-time flag was cleared: %+v", u)
	}
	if _, _, err := plain.Login(ctx, "ada", reset, "203.0.113.8"); err != nil {
		t.Errorf("the admin's password: %v", err)
	}
}
