package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/store"
)

// testChangePassword: a user's own password change is a compare-and-swap
// on the hash, with the flag cleared, the sessions ended and the new one
// made in one transaction; any refusal or failure changes nothing.
func testChangePassword(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	actx := audit.WithActor(ctx, "user:ada")
	const newHash = testHash + "n"
	if _, err := s.CreateUser(ctx, auth.User{Name: "ada", Role: auth.RoleAdmin, PasswordHash: testHash, MustChangePassword: true}); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "grace", auth.RoleViewer)
	old1, sec1 := newSession(clock, "ada", time.Hour)
	old2, sec2 := newSession(clock, "ada", time.Hour)
	gx, gsec := newSession(clock, "grace", time.Hour)
	for _, x := range []auth.Session{old1, old2, gx} {
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := s.GetUser(ctx, "ada")
	log := auditLog(t, s)
	unchanged := func(what string) {
		t.Helper()
		if u, _ := s.GetUser(ctx, "ada"); u != before {
			t.Errorf("%s changed the user: %+v", what, u)
		}
		for _, sec := range []auth.Secret{sec1, sec2} {
			if _, err := s.GetSession(ctx, sec.Hash); err != nil {
				t.Errorf("%s ended a session: %v", what, err)
			}
		}
		if n := len(auditLog(t, s)); n != len(log) {
			t.Errorf("%s wrote %d audit entries", what, n-len(log))
		}
	}
	clock.Advance(time.Minute)

	// An admin reset meanwhile: the stored hash is not the one checked.
	x, xsec := newSession(clock, "ada", time.Hour)
	if _, err := s.ChangePassword(actx, "ada", testHash+"stale", newHash, x); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale hash: %v", err)
	}
	unchanged("a stale hash")
	// The new session cannot be stored (its hash is another's): nothing
	// of the change remains.
	dup := x
	dup.Hash = gsec.Hash
	if _, err := s.ChangePassword(actx, "ada", testHash, newHash, dup); err == nil {
		t.Error("a duplicate session hash was accepted")
	}
	unchanged("a failed session insert")
	if _, err := s.ChangePassword(actx, "nobody", testHash, newHash, x); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	unchanged("an unknown user")

	// Success.
	u, err := s.ChangePassword(actx, "ada", testHash, newHash, x)
	if err != nil || u.PasswordHash != newHash || u.MustChangePassword || !u.UpdatedAt.Equal(clock.Now()) {
		t.Fatalf("change: %+v %v", u, err)
	}
	if read, _ := s.GetUser(ctx, "ada"); read != u {
		t.Errorf("read back %+v, want %+v", read, u)
	}
	for _, sec := range []auth.Secret{sec1, sec2} {
		if _, err := s.GetSession(ctx, sec.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an old session outlived the change: %v", err)
		}
	}
	if got, err := s.GetSession(ctx, xsec.Hash); err != nil || got.User != "ada" || got.ID != x.ID {
		t.Errorf("the new session: %+v %v", got, err)
	}
	if _, err := s.GetSession(ctx, gsec.Hash); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}
	var got []string
	for _, e := range auditLog(t, s)[len(log):] {
		line := e.Action + " " + e.Object + " " + e.Actor
		if e.Object == "user:ada" {
			line += " " + string(e.Before) + " " + string(e.After)
		}
		got = append(got, line)
	}
	first, second := old1.ID, old2.ID
	if second < first {
		first, second = second, first
	}
	want := []string{
		`update user:ada user:ada {"must_change_password":true} {"must_change_password":false,"password":"changed"}`,
		"delete session:" + first + " user:ada",
		"delete session:" + second + " user:ada",
		"create session:" + x.ID + " user:ada",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit entries:\n got  %q\n want %q", got, want)
	}

	// The old hash again (a replay of the same change): refused.
	y, _ := newSession(clock, "ada", time.Hour)
	if _, err := s.ChangePassword(actx, "ada", testHash, newHash+"2", y); !errors.Is(err, store.ErrConflict) {
		t.Errorf("the old hash after the change: %v", err)
	}
	// A disabled user: refused.
	if _, err := s.UpdateUser(ctx, "grace", store.UserUpdate{Disabled: flag(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangePassword(ctx, "grace", testHash, newHash, y); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a disabled user: %v", err)
	}
}
