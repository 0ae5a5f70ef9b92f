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

// testIdentities: an identity (issuer, subject) links to one user, a user
// to one identity per issuer; links and unlinks are audited with the
// issuer and subject only; removing a user removes its links, and a user
// made later with the same name inherits none.
func testIdentities(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	actx := audit.WithActor(ctx, "root-admin")
	const idp, other = "https://login.example.com/realms/acme", "https://accounts.google.com"
	mustUser(t, s, "ada", auth.RoleAdmin)
	mustUser(t, s, "grace", auth.RoleViewer)

	if _, err := s.GetIdentity(ctx, idp, "sub-ada"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("before any link: %v", err)
	}
	id, err := s.LinkIdentity(actx, store.Identity{Issuer: idp, Subject: "sub-ada", User: "ada"})
	if err != nil || !id.CreatedAt.Equal(clock.Now()) {
		t.Fatalf("link: %+v %v", id, err)
	}
	got, err := s.GetIdentity(ctx, idp, "sub-ada")
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "read back", got, id)
	// The subject is exact: another case is another subject.
	if _, err := s.GetIdentity(ctx, idp, "SUB-ADA"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the subject matched case-insensitively: %v", err)
	}
	clock.Advance(time.Minute)
	if _, err := s.LinkIdentity(actx, store.Identity{Issuer: other, Subject: "sub-ada", User: "ada"}); err != nil {
		t.Errorf("the same user at another issuer: %v", err)
	}
	log := auditLog(t, s)
	for _, tc := range []struct {
		name string
		id   store.Identity
		want error
	}{
		{"the identity to another user", store.Identity{Issuer: idp, Subject: "sub-ada", User: "grace"}, store.ErrConflict},
		{"the same link again", store.Identity{Issuer: idp, Subject: "sub-ada", User: "ada"}, store.ErrConflict},
		{"another subject to a linked user", store.Identity{Issuer: idp, Subject: "sub-mallory", User: "ada"}, store.ErrConflict},
		{"an unknown user", store.Identity{Issuer: idp, Subject: "sub-x", User: "nobody"}, store.ErrNotFound},
		{"no subject", store.Identity{Issuer: idp, User: "grace"}, nil},
	} {
		_, err := s.LinkIdentity(actx, tc.id)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := len(auditLog(t, s)); n != len(log) {
		t.Errorf("refused links wrote %d audit entries", n-len(log))
	}
	ids, err := s.UserIdentities(ctx, "ada")
	if err != nil || len(ids) != 2 || ids[0].Issuer != other || ids[1].Issuer != idp {
		t.Errorf("ada's identities: %+v %v", ids, err)
	}
	if ids, err := s.UserIdentities(ctx, "grace"); err != nil || len(ids) != 0 {
		t.Errorf("grace's identities: %+v %v", ids, err)
	}
	if e := log[len(log)-1]; e.Action != "link" || e.Object != "user:ada" || e.Actor != "root-admin" ||
		string(e.After) != `{"issuer":"https://accounts.google.com","subject":"sub-ada"}` || e.Before != nil {
		t.Errorf("link entry: %s %s %s %s before %s", e.Action, e.Object, e.Actor, e.After, e.Before)
	}

	// Unlink: one issuer; then the subject may go to another user.
	if err := s.UnlinkIdentity(actx, "ada", other); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlinkIdentity(actx, "ada", other); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unlink twice: %v", err)
	}
	log = auditLog(t, s)
	if e := log[len(log)-1]; e.Action != "unlink" || e.Object != "user:ada" || string(e.Before) != `{"issuer":"https://accounts.google.com","subject":"sub-ada"}` {
		t.Errorf("unlink entry: %s %s %s", e.Action, e.Object, e.Before)
	}
	if _, err := s.LinkIdentity(actx, store.Identity{Issuer: other, Subject: "sub-ada", User: "grace"}); err != nil {
		t.Errorf("an unlinked identity to another user: %v", err)
	}

	// Removing a user removes its links, audited before the user's
	// deletion; a new user of that name inherits none.
	mustUser(t, s, "root", auth.RoleAdmin)
	if err := s.DeleteUser(actx, "ada"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetIdentity(ctx, idp, "sub-ada"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a removed user's link: %v", err)
	}
	log = auditLog(t, s)
	if a, b := log[len(log)-2], log[len(log)-1]; a.Action != "unlink" || a.Object != "user:ada" || b.Action != "delete" || b.Object != "user:ada" {
		t.Errorf("delete entries: %s %s, %s %s", a.Action, a.Object, b.Action, b.Object)
	}
	mustUser(t, s, "ada", auth.RoleViewer)
	if ids, err := s.UserIdentities(ctx, "ada"); err != nil || len(ids) != 0 {
		t.Errorf("a new ada inherited links: %+v %v", ids, err)
	}
	for _, e := range auditLog(t, s) {
		if strings.Contains(string(e.Before)+string(e.After), testHash) {
			t.Errorf("entry %d holds a hash", e.Seq)
		}
	}
}

// testIdentitiesConcurrent: two sign-ins racing from two processes to
// link one user to two subjects, or one subject to two users, leave
// exactly one link.
func testIdentitiesConcurrent(t *testing.T, open Opener) {
	s1 := open(t, nil)
	s2 := open(t, nil)
	const idp = "https://login.example.com"
	for i := range 5 {
		u := fmt.Sprintf("u%d", i)
		mustUser(t, s1, u, auth.RoleViewer)
		mustUser(t, s1, u+"b", auth.RoleViewer)
		for _, tc := range [][2]store.Identity{
			{{Issuer: idp, Subject: u + "-x", User: u}, {Issuer: idp, Subject: u + "-y", User: u}},
			{{Issuer: idp, Subject: u + "-z", User: u + "b"}, {Issuer: idp, Subject: u + "-z", User: "u0b"}},
		} {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for j, st := range []store.Store{s1, s2} {
				wg.Add(1)
				go func() { defer wg.Done(); _, errs[j] = st.LinkIdentity(ctx, tc[j]) }()
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) {
				t.Errorf("round %d %v: %v / %v, want one link", i, tc, errs[0], errs[1])
			}
			for _, err := range errs {
				if err != nil && !errors.Is(err, store.ErrConflict) {
					t.Errorf("the loser: %v, want a conflict", err)
				}
			}
		}
	}
}
