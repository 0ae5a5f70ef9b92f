package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/store/sqlstore"
)

// TestAuditCommands: every change a command makes is in the audit log
// under the user who ran it, and verify catches an edited entry.
func TestAuditCommands(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		t.Setenv("WEAKLINK_USER", "ada")
		ok(t, db, "apply", "-f", acme)
		ok(t, db, "vendors", "block", "mixpanel", "--reason", "breach")
		var entries []audit.Entry
		if err := json.Unmarshal([]byte(ok(t, db, "audit", "list", "--object", "vendor:mixpanel", "--format", "json")), &entries); err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Action != "create" || entries[1].Action != "block" || entries[1].Actor != "ada" {
			t.Fatalf("mixpanel's entries: %+v", entries)
		}
		if out := ok(t, db, "audit", "verify"); !strings.Contains(out, "intact") {
			t.Fatalf("verify: %s", out)
		}

		// Someone with database access edits an entry behind the triggers.
		st, err := OpenStore(context.Background(), db, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw := st.(*sqlstore.DB).SQL()
		disable, enable := `DROP TRIGGER audit_log_no_update`, ``
		if st.Backend() == "postgres" {
			disable, enable = `ALTER TABLE audit_log DISABLE TRIGGER USER`, `ALTER TABLE audit_log ENABLE TRIGGER USER`
		}
		for _, q := range []string{disable, `UPDATE audit_log SET actor = 'mallory' WHERE object = 'vendor:mixpanel' AND action = 'block'`, enable} {
			if q == "" {
				continue
			}
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		st.Close()
		r := run(t, db, "audit", "verify")
		if r.code != 1 || !strings.Contains(r.stderr, "does not match its hash (edited)") {
			t.Errorf("verify after an edit: exit %d, %s", r.code, r.stderr)
		}
	})
}
