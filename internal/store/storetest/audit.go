package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

func auditLog(t *testing.T, s store.Store) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	if err := s.ScanAudit(ctx, store.AuditFilter{}, func(e audit.Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// verifyAudit checks the chain as `weaklink audit verify` does.
func verifyAudit(t *testing.T, s store.Store) (int64, error) {
	t.Helper()
	head, err := s.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var v audit.Verifier
	if err := s.ScanAudit(ctx, store.AuditFilter{}, func(e audit.Entry) error { v.Add(e); return nil }); err != nil {
		t.Fatal(err)
	}
	return v.Done(head)
}

// testAudit: every kind of change writes entries in its own transaction,
// with the context's actor, and the chain verifies.
func testAudit(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	actx := audit.WithActor(ctx, "ada")
	inv := fixture()
	snap := snapshot(t, s)
	plan := inventory.Diff(snap.Inventory, inv, false)
	if err := s.Apply(actx, snap.Version, plan); err != nil {
		t.Fatal(err)
	}
	log := auditLog(t, s)
	if len(log) != len(plan.Changes) {
		t.Fatalf("%d entries for %d changes", len(log), len(plan.Changes))
	}
	e := log[0]
	if e.Seq != 1 || e.Prev != "" || e.Actor != "ada" || e.Action != "create" || !e.At.Equal(clock.Now()) || len(e.After) == 0 || len(e.Before) != 0 {
		t.Errorf("first entry = %+v", e)
	}
	// An update records the fields it changed, before and after.
	clock.Advance(time.Minute)
	snap = snapshot(t, s)
	next := snap.Inventory
	next.Vendors = slices.Clone(snap.Vendors)
	for i := range next.Vendors {
		if next.Vendors[i].ID == "stripe" {
			next.Vendors[i].Status = "approved"
		}
	}
	if err := s.Apply(audit.WithActor(ctx, "grace"), snap.Version, inventory.Diff(snap.Inventory, next, false)); err != nil {
		t.Fatal(err)
	}
	if err := s.BlockVendor(actx, store.Block{Vendor: "mixpanel", Reason: "breach", BlockedBy: "ada", BlockedAt: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.UnblockVendor(actx, "mixpanel"); err != nil {
		t.Fatal(err)
	}
	in := mixpanelIncident(clock)
	if _, err := s.CreateIncident(actx, in, incident.Event{ID: "e1", Incident: in.ID, At: clock.Now(), Kind: "opened"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutResidence(actx, []store.Residence{{Subject: "a", Jurisdiction: "DE"}}); err != nil {
		t.Fatal(err)
	}
	log = auditLog(t, s)
	tail := log[len(plan.Changes):]
	var got []string
	for _, e := range tail {
		got = append(got, e.Actor+" "+e.Action+" "+e.Object)
	}
	mustEqual(t, "entries", got, []string{"grace update vendor:stripe", "ada block vendor:mixpanel", "ada unblock vendor:mixpanel",
		"ada open incident:" + in.ID, "ada import subject_residence"})
	var before, after map[string]json.RawMessage
	json.Unmarshal(tail[0].Before, &before)
	json.Unmarshal(tail[0].After, &after)
	if string(before["status"]) != `"proposed"` || string(after["status"]) != `"approved"` {
		t.Errorf("update entry: before %s after %s", tail[0].Before, tail[0].After)
	}
	// A change that fails writes no entry.
	if err := s.UnblockVendor(actx, "mixpanel"); err == nil {
		t.Fatal("second unblock succeeded")
	}
	if n, err := verifyAudit(t, s); err != nil || n != int64(len(log)) {
		t.Fatalf("verify: %d entries, %v; want %d, nil", n, err, len(log))
	}
	var one []audit.Entry
	s.ScanAudit(ctx, store.AuditFilter{Object: "vendor:mixpanel"}, func(e audit.Entry) error { one = append(one, e); return nil })
	if len(one) != 3 {
		t.Errorf("%d entries for vendor:mixpanel, want create, block, unblock", len(one))
	}
}

// testAuditConcurrent: two handles (two processes) writing at once still
// make one unbroken chain.
func testAuditConcurrent(t *testing.T, open Opener) {
	s1 := open(t, nil)
	s2 := open(t, nil)
	apply(t, s1, fixture(), false)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []store.Store{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 15 {
				b := store.Block{Vendor: "sentry", Reason: strings.Repeat("x", j), BlockedAt: time.Now()}
				if err := s.BlockVendor(audit.WithActor(context.Background(), []string{"p1", "p2"}[i]), b); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := verifyAudit(t, s1); err != nil || n != int64(len(fixture().Vendors)+len(fixture().Systems)+len(fixture().Flows)+30) {
		t.Fatalf("verify after concurrent writes: %d entries, %v", n, err)
	}
}

// testAuditTamper: the database refuses to change the log; someone who
// gets around that (dropping the triggers) is caught by verify, whether
// they edit, delete or append.
func testAuditTamper(t *testing.T, open Opener) {
	s := open(t, nil)
	apply(t, s, fixture(), false)
	raw, ok := s.(interface{ SQL() *sql.DB })
	if !ok {
		t.Skip("backend has no SQL handle")
	}
	db := raw.SQL()
	for _, q := range []string{`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`, `DELETE FROM audit_log WHERE seq = 2`} {
		if _, err := db.ExecContext(ctx, q); err == nil {
			t.Fatalf("%s: the database allowed it", q)
		}
	}
	var disable, enable []string
	if s.Backend() == "postgres" {
		disable = []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`}
		enable = []string{`ALTER TABLE audit_log ENABLE TRIGGER USER`}
	} else {
		disable = []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}
	}
	exec := func(qs ...string) {
		t.Helper()
		for _, q := range qs {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	exec(disable...)
	n := int64(len(auditLog(t, s)))
	for _, tc := range []struct {
		name, do, undo, want string
	}{
		{"edited", `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`, `UPDATE audit_log SET actor = 'system' WHERE seq = 2`, "entry 2: its content does not match its hash (edited)"},
		{"deleted", `DELETE FROM audit_log WHERE seq = 3`, "", "entry 3: missing"},
	} {
		exec(tc.do)
		_, err := verifyAudit(t, s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: verify says %v, want %q", tc.name, err, tc.want)
		}
		if tc.undo != "" {
			exec(tc.undo)
			if _, err := verifyAudit(t, s); err != nil && tc.name == "edited" {
				t.Errorf("after undoing the edit: %v", err)
			}
		}
	}
	// Cutting the tail, head and all rows after it, is caught by the head;
	// cutting both the tail and the head back leaves a shorter valid chain,
	// which is why the head is worth copying elsewhere (docs).
	exec(`DELETE FROM audit_log WHERE seq = ` + strconv.FormatInt(n, 10))
	if _, err := verifyAudit(t, s); err == nil || !strings.Contains(err.Error(), "deleted from the end") && !strings.Contains(err.Error(), "missing") {
		t.Errorf("tail cut: %v", err)
	}
	exec(enable...)
}
