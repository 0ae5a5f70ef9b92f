package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/store"
)

// testMustChangePassword: the one-time password flag round-trips, changes
// only when named, is audited (as a flag, never with the password), and
// survives a rehash.
func testMustChangePassword(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	actx := audit.WithActor(ctx, "root-admin")
	ada, err := s.CreateUser(actx, auth.User{Name: "ada", Role: auth.RoleAdmin, PasswordHash: testHash, MustChangePassword: true})
	if err != nil || !ada.MustChangePassword {
		t.Fatalf("create: %+v, %v", ada, err)
	}
	grace := mustUser(t, s, "grace", auth.RoleViewer)
	if grace.MustChangePassword {
		t.Error("a user made without the flag has it")
	}
	got, err := s.GetUser(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "read back", got, ada)
	users, err := s.ListUsers(ctx)
	if err != nil || len(users) != 2 || !users[0].MustChangePassword || users[1].MustChangePassword {
		t.Fatalf("list: %+v, %v", users, err)
	}
	log := auditLog(t, s)
	if e := log[0]; e.Object != "user:ada" || string(e.After) != `{"name":"ada","role":"admin","disabled":false,"must_change_password":true}` {
		t.Errorf("create entry: %s %s", e.Object, e.After)
	}

	// Other changes leave it; naming it with its value is no change.
	clock.Advance(time.Minute)
	if u, err := s.UpdateUser(actx, "ada", store.UserUpdate{Role: role(auth.RoleAdmin), MustChangePassword: flag(true)}); err != nil || !u.MustChangePassword {
		t.Errorf("no-op: %+v, %v", u, err)
	}
	if n := len(auditLog(t, s)); n != len(log) {
		t.Errorf("a no-op update wrote %d entries", n-len(log))
	}
	// A rehash keeps the flag and the sessions.
	x, xsec := newSession(clock, "ada", time.Hour)
	if err := s.CreateSession(ctx, x); err != nil {
		t.Fatal(err)
	}
	if u, err := s.UpdateUser(actx, "ada", store.UserUpdate{PasswordHash: text(testHash + "x"), Rehash: true}); err != nil || !u.MustChangePassword {
		t.Errorf("rehash: %+v, %v", u, err)
	}
	if _, err := s.GetSession(ctx, xsec.Hash); err != nil {
		t.Errorf("a rehash ended the session: %v", err)
	}

	// A new password that clears the flag: one entry, both fields; the
	// sessions end.
	u, err := s.UpdateUser(actx, "ada", store.UserUpdate{PasswordHash: text(testHash), MustChangePassword: flag(false)})
	if err != nil || u.MustChangePassword || u.PasswordHash != testHash || !u.UpdatedAt.Equal(clock.Now()) {
		t.Fatalf("change: %+v, %v", u, err)
	}
	if read, _ := s.GetUser(ctx, "ada"); read != u {
		t.Errorf("read back %+v, want %+v", read, u)
	}
	if _, err := s.GetSession(ctx, xsec.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the session outlived the password change: %v", err)
	}
	var upd audit.Entry
	for _, e := range auditLog(t, s) {
		if e.Object == "user:ada" && e.Action == "update" {
			upd = e
		}
	}
	if string(upd.Before) != `{"must_change_password":true}` || string(upd.After) != `{"must_change_password":false,"password":"changed"}` {
		t.Errorf("update entry: before %s after %s", upd.Before, upd.After)
	}

	// An admin setting the flag alone (a forced change) keeps the password.
	g, err := s.UpdateUser(actx, "grace", store.UserUpdate{MustChangePassword: flag(true)})
	if err != nil || !g.MustChangePassword || g.PasswordHash != testHash {
		t.Errorf("set the flag: %+v, %v", g, err)
	}
	// Deletion records it.
	if err := s.DeleteUser(actx, "grace"); err != nil {
		t.Fatal(err)
	}
	log = auditLog(t, s)
	if e := log[len(log)-1]; e.Action != "delete" || string(e.Before) != `{"name":"grace","role":"viewer","disabled":false,"must_change_password":true}` {
		t.Errorf("delete entry: %s %s", e.Action, e.Before)
	}
}
