package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/store"
)

// A password hash in the right format; the store never looks inside.
const testHash = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

func role(r auth.Role) *auth.Role { return &r }
func flag(b bool) *bool           { return &b }
func text(s string) *string       { return &s }

func mustUser(t *testing.T, s store.Store, name string, r auth.Role) auth.User {
	t.Helper()
	u, err := s.CreateUser(ctx, auth.User{Name: name, Role: r, PasswordHash: testHash})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func newSession(clock *Clock, user string, life time.Duration) (auth.Session, auth.Secret) {
	sec := auth.NewSessionSecret()
	now := clock.Now()
	return auth.Session{ID: sec.ID, Hash: sec.Hash, User: user, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(life)}, sec
}

func newToken(clock *Clock, user string, r auth.Role, life time.Duration) (auth.Token, auth.Secret) {
	sec := auth.NewTokenSecret()
	now := clock.Now()
	return auth.Token{ID: sec.ID, Hash: sec.Hash, User: user, Name: "ci", Role: r, CreatedAt: now, ExpiresAt: now.Add(life)}, sec
}

func testUsers(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	ada := mustUser(t, s, "ada", auth.RoleAdmin)
	if !ada.CreatedAt.Equal(clock.Now()) || !ada.UpdatedAt.Equal(clock.Now()) {
		t.Errorf("created = %+v", ada)
	}
	got, err := s.GetUser(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "user", got, ada)
	if _, err := s.CreateUser(ctx, auth.User{Name: "ada", Role: auth.RoleViewer}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate user: %v, want ErrConflict", err)
	}
	if _, err := s.CreateUser(ctx, auth.User{Name: "eve", Role: "root"}); err == nil {
		t.Error("unknown role stored")
	}
	if _, err := s.GetUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser(nobody): %v", err)
	}
	mustUser(t, s, "grace", auth.RoleViewer)
	mustUser(t, s, "charles", auth.RoleEditor)
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
	}
	mustEqual(t, "users", names, []string{"ada", "charles", "grace"})

	// Updates change only what they name.
	clock.Advance(time.Minute)
	g, err := s.UpdateUser(ctx, "grace", store.UserUpdate{Role: role(auth.RoleAuditor)})
	if err != nil || g.Role != auth.RoleAuditor || g.Disabled || g.PasswordHash != testHash || !g.UpdatedAt.Equal(clock.Now()) || !g.CreatedAt.Equal(ada.CreatedAt) {
		t.Errorf("set role: %+v, %v", g, err)
	}
	g, err = s.UpdateUser(ctx, "grace", store.UserUpdate{Disabled: flag(true), PasswordHash: text("")})
	if err != nil || g.Role != auth.RoleAuditor || !g.Disabled || g.PasswordHash != "" {
		t.Errorf("disable: %+v, %v", g, err)
	}
	if read, _ := s.GetUser(ctx, "grace"); read != g {
		t.Errorf("read back %+v, want %+v", read, g)
	}
	if _, err := s.UpdateUser(ctx, "nobody", store.UserUpdate{Disabled: flag(true)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update nobody: %v", err)
	}
	if _, err := s.UpdateUser(ctx, "grace", store.UserUpdate{Role: role("root")}); err == nil {
		t.Error("unknown role stored by an update")
	}
	// A change to nothing writes nothing.
	n := len(auditLog(t, s))
	if _, err := s.UpdateUser(ctx, "grace", store.UserUpdate{Role: role(auth.RoleAuditor), Disabled: flag(true)}); err != nil {
		t.Fatal(err)
	}
	if len(auditLog(t, s)) != n {
		t.Error("a no-op update wrote an audit entry")
	}

	// The last enabled admin stays.
	for what, up := range map[string]store.UserUpdate{
		"demote":  {Role: role(auth.RoleEditor)},
		"disable": {Disabled: flag(true)},
	} {
		if _, err := s.UpdateUser(ctx, "ada", up); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "last enabled admin") {
			t.Errorf("%s the last admin: %v, want ErrConflict", what, err)
		}
	}
	if err := s.DeleteUser(ctx, "ada"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("delete the last admin: %v, want ErrConflict", err)
	}
	// A disabled admin does not count.
	if _, err := s.UpdateUser(ctx, "grace", store.UserUpdate{Role: role(auth.RoleAdmin)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, "ada", store.UserUpdate{Role: role(auth.RoleEditor)}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("demote the last enabled admin beside a disabled one: %v", err)
	}
	// With a second enabled admin, the first may go.
	if _, err := s.UpdateUser(ctx, "charles", store.UserUpdate{Role: role(auth.RoleAdmin)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, "ada", store.UserUpdate{Disabled: flag(true)}); err != nil {
		t.Errorf("disable an admin beside another: %v", err)
	}
	if err := s.DeleteUser(ctx, "ada"); err != nil {
		t.Errorf("delete a disabled admin: %v", err)
	}
	if err := s.DeleteUser(ctx, "ada"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if _, err := s.GetUser(ctx, "ada"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted user: %v", err)
	}
}

func testSessions(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	mustUser(t, s, "ada", auth.RoleAdmin)
	x, sec := newSession(clock, "ada", 8*time.Hour)
	if err := s.CreateSession(ctx, x); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSession(ctx, sec.Hash)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "session", got, x)
	// Uniqueness of id and hash.
	dupID, _ := newSession(clock, "ada", time.Hour)
	dupID.ID = x.ID
	dupHash, _ := newSession(clock, "ada", time.Hour)
	dupHash.Hash = x.Hash
	for _, d := range []auth.Session{dupID, dupHash} {
		if err := s.CreateSession(ctx, d); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate session: %v, want ErrConflict", err)
		}
	}
	nobody, _ := newSession(clock, "nobody", time.Hour)
	if err := s.CreateSession(ctx, nobody); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of nobody: %v, want ErrNotFound", err)
	}
	if _, err := s.GetSession(ctx, auth.HashSecret("wls_unknown")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown session: %v", err)
	}

	// Touches only move forward.
	clock.Advance(time.Hour)
	if err := s.TouchSession(ctx, x.ID, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, x.ID, clock.Now().Add(-30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetSession(ctx, sec.Hash)
	if !got.LastSeen.Equal(clock.Now()) || !got.CreatedAt.Equal(x.CreatedAt) {
		t.Errorf("after touches: %+v", got)
	}
	if err := s.TouchSession(ctx, "wls_nosuchsess", clock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("touch of no session: %v", err)
	}
	// The idle timeout is the caller's: the policy sees LastSeen.
	p := auth.SessionPolicy{Idle: 2 * time.Hour, Absolute: 8 * time.Hour}
	if err := p.Check(got, clock.Now().Add(2*time.Hour-time.Second)); err != nil {
		t.Errorf("idle check: %v", err)
	}
	if err := p.Check(got, clock.Now().Add(2*time.Hour)); !errors.Is(err, auth.ErrSessionExpired) {
		t.Errorf("idle check: %v", err)
	}

	// Expiry: at ExpiresAt the session is gone for GetSession, and swept.
	short, shortSec := newSession(clock, "ada", time.Hour)
	if err := s.CreateSession(ctx, short); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour - time.Microsecond)
	if _, err := s.GetSession(ctx, shortSec.Hash); err != nil {
		t.Errorf("a microsecond before expiry: %v", err)
	}
	clock.Advance(time.Microsecond)
	if _, err := s.GetSession(ctx, shortSec.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("at expiry: %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteExpiredSessions(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if n, err := s.DeleteExpiredSessions(ctx); err != nil || n != 0 {
		t.Errorf("DeleteExpiredSessions again = %d, %v; want 0", n, err)
	}
	if _, err := s.GetSession(ctx, sec.Hash); err != nil {
		t.Errorf("the live session went with the expired one: %v", err)
	}

	// Logout, and logout everywhere.
	if err := s.DeleteSession(ctx, x.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, x.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second logout: %v", err)
	}
	if _, err := s.GetSession(ctx, sec.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after logout: %v", err)
	}
	var hashes []string
	for range 3 {
		y, ysec := newSession(clock, "ada", time.Hour)
		if err := s.CreateSession(ctx, y); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, ysec.Hash)
	}
	if n, err := s.DeleteUserSessions(ctx, "ada"); err != nil || n != 3 {
		t.Errorf("DeleteUserSessions = %d, %v", n, err)
	}
	for _, h := range hashes {
		if _, err := s.GetSession(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Error("a session outlived logout everywhere")
		}
	}

	// Disabling a user or changing its password ends its sessions; a
	// rehash or a role change does not. A disabled user gets none.
	mustUser(t, s, "grace", auth.RoleViewer)
	for _, tc := range []struct {
		up   store.UserUpdate
		ends bool
	}{
		{store.UserUpdate{Role: role(auth.RoleEditor)}, false},
		{store.UserUpdate{PasswordHash: text(testHash + "x"), Rehash: true}, false},
		{store.UserUpdate{PasswordHash: text(testHash)}, true},
		{store.UserUpdate{Disabled: flag(true)}, true},
	} {
		y, ysec := newSession(clock, "grace", time.Hour)
		if err := s.CreateSession(ctx, y); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateUser(ctx, "grace", tc.up); err != nil {
			t.Fatal(err)
		}
		_, err := s.GetSession(ctx, ysec.Hash)
		if ended := errors.Is(err, store.ErrNotFound); ended != tc.ends {
			t.Errorf("update %+v: session ended %v, want %v", tc.up, ended, tc.ends)
		}
		s.DeleteUserSessions(ctx, "grace")
	}
	y, _ := newSession(clock, "grace", time.Hour)
	if err := s.CreateSession(ctx, y); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("session of a disabled user: %v, want ErrConflict", err)
	}
}

func testTokens(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	mustUser(t, s, "ada", auth.RoleAdmin)
	mustUser(t, s, "gw", auth.RoleGateway)
	tok, sec := newToken(clock, "ada", auth.RoleViewer, 90*24*time.Hour)
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetToken(ctx, sec.Hash)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "token", got, tok)
	dupID, _ := newToken(clock, "ada", auth.RoleViewer, time.Hour)
	dupID.ID = tok.ID
	dupHash, _ := newToken(clock, "ada", auth.RoleViewer, time.Hour)
	dupHash.Hash = tok.Hash
	for _, d := range []auth.Token{dupID, dupHash} {
		if err := s.CreateToken(ctx, d); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate token: %v, want ErrConflict", err)
		}
	}
	nobody, _ := newToken(clock, "nobody", auth.RoleViewer, time.Hour)
	if err := s.CreateToken(ctx, nobody); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of nobody: %v, want ErrNotFound", err)
	}
	bad, _ := newToken(clock, "ada", "root", time.Hour)
	if err := s.CreateToken(ctx, bad); err == nil {
		t.Error("token with an unknown role stored")
	}

	// Touches move forward only.
	clock.Advance(time.Hour)
	if err := s.TouchToken(ctx, tok.ID, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchToken(ctx, tok.ID, clock.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetToken(ctx, sec.Hash)
	if got.LastUsed == nil || !got.LastUsed.Equal(clock.Now()) {
		t.Errorf("last used = %v, want %v", got.LastUsed, clock.Now())
	}
	if err := s.TouchToken(ctx, "wlt_nosuchtokn", clock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("touch of no token: %v", err)
	}

	// Expiry.
	short, shortSec := newToken(clock, "gw", auth.RoleGateway, time.Hour)
	if err := s.CreateToken(ctx, short); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour - time.Microsecond)
	if _, err := s.GetToken(ctx, shortSec.Hash); err != nil {
		t.Errorf("a microsecond before expiry: %v", err)
	}
	clock.Advance(time.Microsecond)
	if _, err := s.GetToken(ctx, shortSec.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("at expiry: %v, want ErrNotFound", err)
	}

	// Revocation: once.
	if err := s.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, tok.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second revoke: %v, want ErrNotFound", err)
	}
	if err := s.RevokeToken(ctx, "wlt_nosuchtokn"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke of no token: %v", err)
	}
	if _, err := s.GetToken(ctx, sec.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked token found: %v", err)
	}

	// Listings keep revoked and expired tokens, oldest first.
	all, err := s.ListTokens(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != tok.ID || all[1].ID != short.ID {
		t.Fatalf("ListTokens = %+v", all)
	}
	if all[0].RevokedAt == nil || !all[0].RevokedAt.Equal(clock.Now()) || all[0].Status(clock.Now()) != "revoked" ||
		all[1].RevokedAt != nil || all[1].Status(clock.Now()) != "expired" {
		t.Errorf("statuses: %+v", all)
	}
	mine, _ := s.ListTokens(ctx, "gw")
	if len(mine) != 1 || mine[0].ID != short.ID {
		t.Errorf("ListTokens(gw) = %+v", mine)
	}
	if none, err := s.ListTokens(ctx, "nobody"); err != nil || len(none) != 0 {
		t.Errorf("ListTokens(nobody) = %+v, %v", none, err)
	}

	// A disabled user gets no new token.
	if _, err := s.UpdateUser(ctx, "gw", store.UserUpdate{Disabled: flag(true)}); err != nil {
		t.Fatal(err)
	}
	off, _ := newToken(clock, "gw", auth.RoleGateway, time.Hour)
	if err := s.CreateToken(ctx, off); !errors.Is(err, store.ErrConflict) {
		t.Errorf("token of a disabled user: %v, want ErrConflict", err)
	}
}

// testAuthCascade: deleting a user deletes its sessions and revokes its
// tokens, in one transaction, and a new user of the same name inherits
// nothing.
func testAuthCascade(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	mustUser(t, s, "ada", auth.RoleAdmin)
	mustUser(t, s, "grace", auth.RoleEditor)
	var sessions, tokens []string
	for range 2 {
		x, xs := newSession(clock, "grace", time.Hour)
		tk, ts := newToken(clock, "grace", auth.RoleViewer, time.Hour)
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
		sessions, tokens = append(sessions, xs.Hash), append(tokens, ts.Hash)
	}
	// One token revoked before: it stays as it was.
	list, _ := s.ListTokens(ctx, "grace")
	clock.Advance(time.Minute)
	if err := s.RevokeToken(ctx, list[0].ID); err != nil {
		t.Fatal(err)
	}
	firstRevoked := clock.Now()
	ax, axs := newSession(clock, "ada", time.Hour)
	at, ats := newToken(clock, "ada", auth.RoleAdmin, time.Hour)
	s.CreateSession(ctx, ax)
	s.CreateToken(ctx, at)
	clock.Advance(time.Minute)
	before := len(auditLog(t, s))
	if err := s.DeleteUser(ctx, "grace"); err != nil {
		t.Fatal(err)
	}
	for _, h := range sessions {
		if _, err := s.GetSession(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a deleted user's session: %v", err)
		}
	}
	for _, h := range tokens {
		if _, err := s.GetToken(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a deleted user's token: %v", err)
		}
	}
	list, _ = s.ListTokens(ctx, "grace")
	if len(list) != 2 || list[0].RevokedAt == nil || !list[0].RevokedAt.Equal(firstRevoked) ||
		list[1].RevokedAt == nil || !list[1].RevokedAt.Equal(clock.Now()) {
		t.Errorf("tokens after delete: %+v", list)
	}
	// Another user's are untouched.
	if _, err := s.GetSession(ctx, axs.Hash); err != nil {
		t.Errorf("ada's session: %v", err)
	}
	if _, err := s.GetToken(ctx, ats.Hash); err != nil {
		t.Errorf("ada's token: %v", err)
	}
	// The entries: two sessions, one token (the other was revoked before),
	// the user.
	var got []string
	for _, e := range auditLog(t, s)[before:] {
		got = append(got, e.Action+" "+strings.SplitN(e.Object, ":", 2)[0])
	}
	mustEqual(t, "entries", got, []string{"delete session", "delete session", "revoke token", "delete user"})
	// The name again: a new user, with nothing of the old one.
	mustUser(t, s, "grace", auth.RoleViewer)
	for _, h := range tokens {
		if _, err := s.GetToken(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the old token works for the new user: %v", err)
		}
	}
}

// testAuthAudit: every change to users, sessions and tokens is in the
// audit log, with the context's actor, and no entry holds a password hash,
// a secret or its hash.
func testAuthAudit(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	actx := audit.WithActor(ctx, "root-admin")
	var secrets []string
	hash, err := (auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}).Hash("a password of some length")
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, hash, strings.Split(hash, "$")[4], strings.Split(hash, "$")[5])
	if _, err := s.CreateUser(actx, auth.User{Name: "ada", Role: auth.RoleAdmin, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "grace", auth.RoleViewer)
	newHash := strings.Replace(hash, "$c", "$d", 1)
	secrets = append(secrets, newHash)
	steps := []func() error{
		func() error {
			_, err := s.UpdateUser(actx, "grace", store.UserUpdate{Role: role(auth.RoleEditor)})
			return err
		},
		func() error {
			_, err := s.UpdateUser(actx, "grace", store.UserUpdate{PasswordHash: &newHash})
			return err
		},
		func() error {
			x, sec := newSession(clock, "grace", time.Hour)
			secrets = append(secrets, sec.Reveal(), sec.Hash)
			return s.CreateSession(actx, x)
		},
		func() error {
			tk, sec := newToken(clock, "grace", auth.RoleViewer, time.Hour)
			secrets = append(secrets, sec.Reveal(), sec.Hash)
			if err := s.CreateToken(actx, tk); err != nil {
				return err
			}
			return s.RevokeToken(actx, tk.ID)
		},
		func() error {
			tk, sec := newToken(clock, "grace", auth.RoleEditor, time.Hour)
			secrets = append(secrets, sec.Reveal(), sec.Hash)
			return s.CreateToken(actx, tk)
		},
		func() error {
			_, err := s.UpdateUser(actx, "grace", store.UserUpdate{Disabled: flag(true)})
			return err
		},
		func() error { return s.DeleteUser(actx, "grace") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	log := auditLog(t, s)
	var got []string
	for _, e := range log {
		got = append(got, fmt.Sprintf("%s %s %s", e.Actor, e.Action, strings.SplitN(e.Object, ":", 2)[0]))
		for _, sec := range secrets {
			for _, field := range []string{e.Object, string(e.Before), string(e.After)} {
				if strings.Contains(field, sec) {
					t.Errorf("entry %d (%s %s) holds a secret: %s", e.Seq, e.Action, e.Object, field)
				}
			}
		}
		for _, field := range []string{string(e.Before), string(e.After)} {
			if strings.Contains(field, "argon2") || strings.Contains(field, "hash") {
				t.Errorf("entry %d (%s %s) mentions a hash: %s", e.Seq, e.Action, e.Object, field)
			}
		}
	}
	mustEqual(t, "entries", got, []string{
		"root-admin create user", "system create user",
		"root-admin update user", "root-admin update user", "root-admin create session",
		"root-admin create token", "root-admin revoke token", "root-admin create token",
		"root-admin update user", "root-admin delete session", // disabling ends the session
		"root-admin revoke token", "root-admin delete user",
	})
	var pw, dis audit.Entry
	for _, e := range log {
		if e.Object == "user:grace" && strings.Contains(string(e.After), "password") {
			pw = e
		}
		if e.Object == "user:grace" && strings.Contains(string(e.After), "disabled") {
			dis = e
		}
	}
	if string(pw.After) != `{"password":"changed"}` {
		t.Errorf("password entry: before %s after %s", pw.Before, pw.After)
	}
	if string(dis.Before) != `{"disabled":false}` || string(dis.After) != `{"disabled":true}` {
		t.Errorf("disable entry: before %s after %s", dis.Before, dis.After)
	}
	// Failures and touches write nothing.
	n := len(log)
	s.CreateUser(actx, auth.User{Name: "ada", Role: auth.RoleAdmin})
	s.DeleteUser(actx, "ada")
	s.RevokeToken(actx, "wlt_nosuchtokn")
	x, _ := newSession(clock, "ada", time.Hour)
	s.CreateSession(ctx, x)
	s.TouchSession(ctx, x.ID, clock.Now().Add(time.Minute))
	if got := len(auditLog(t, s)); got != n+1 {
		t.Errorf("%d entries after failures, a session and a touch; want %d", got, n+1)
	}
	if _, err := verifyAudit(t, s); err != nil {
		t.Error(err)
	}
}

// testAuthConcurrent: touches of one session from two handles at once
// leave the latest time; two admins demoting each other at once leave one.
func testAuthConcurrent(t *testing.T, open Opener) {
	clock := NewClock()
	handles := []store.Store{open(t, clock.Now), open(t, clock.Now)}
	s := handles[0]
	mustUser(t, s, "ada", auth.RoleAdmin)
	x, sec := newSession(clock, "ada", time.Hour)
	if err := s.CreateSession(ctx, x); err != nil {
		t.Fatal(err)
	}
	const touchers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, touchers)
	for w := range touchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := handles[w%2]
			for r := range rounds {
				at := x.CreatedAt.Add(time.Duration(r*touchers+w) * time.Second)
				for attempt := 0; ; attempt++ {
					err := h.TouchSession(ctx, x.ID, at)
					if isBusy(err) && attempt < 50 {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := handles[1].GetSession(ctx, sec.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if want := x.CreatedAt.Add((touchers*rounds - 1) * time.Second); !got.LastSeen.Equal(want) {
		t.Errorf("last seen = %v, want %v", got.LastSeen, want)
	}

	// Two admins, each demoted from another handle at the same time: one
	// demotion wins, the other is refused, and an admin is left.
	mustUser(t, s, "grace", auth.RoleAdmin)
	results := make([]error, 2)
	for i, name := range []string{"ada", "grace"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for attempt := 0; ; attempt++ {
				_, err := handles[i].UpdateUser(ctx, name, store.UserUpdate{Role: role(auth.RoleViewer)})
				if isBusy(err) && attempt < 50 {
					continue
				}
				results[i] = err
				return
			}
		}()
	}
	wg.Wait()
	refused := 0
	for _, err := range results {
		if errors.Is(err, store.ErrConflict) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	users, _ := s.ListUsers(ctx)
	admins := 0
	for _, u := range users {
		if u.Role == auth.RoleAdmin {
			admins++
		}
	}
	if refused != 1 || admins != 1 {
		t.Errorf("%d demotions refused, %d admins left; want 1 and 1 (%v)", refused, admins, results)
	}
	if _, err := verifyAudit(t, s); err != nil {
		t.Error(err)
	}
}
