package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/auth"
)

// TestUsersOneTimePasswords: what users add and users passwd set is
// one-time, and they say so, unless the admin gives the password and
// --no-change-required.
func TestUsersOneTimePasswords(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		out := ok(t, db, "users", "add", "ada", "--role", "admin")
		if oneTime.FindStringSubmatch(out) == nil || !strings.Contains(out, "ada must change the password at first login.") {
			t.Errorf("users add:\n%s", out)
		}
		const pw = "grace hopper's compiler"
		r := runIn(t, db, pw+"\n", "users", "add", "grace", "--role", "editor", "--password-stdin")
		if r.code != 0 || !strings.Contains(r.stdout, "grace must change the password at first login.") || strings.Contains(r.stdout, pw) {
			t.Errorf("users add --password-stdin: %+v", r)
		}
		var kept userWithPassword
		r = runIn(t, db, pw+"\n", "users", "add", "linus", "--role", "viewer", "--password-stdin", "--no-change-required", "--format", "json")
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &kept) != nil || kept.MustChangePassword || !strings.Contains(r.stdout, `"must_change_password": false`) {
			t.Errorf("users add --no-change-required: %+v", r)
		}
		if out := ok(t, db, "users", "passwd", "linus"); !strings.Contains(out, "linus must change the password at first login.") {
			t.Errorf("users passwd:\n%s", out)
		}
		r = runIn(t, db, pw+" again\n", "users", "passwd", "linus", "--password-stdin", "--no-change-required")
		if r.code != 0 || strings.Contains(r.stdout, "must change") {
			t.Errorf("users passwd --no-change-required: %+v", r)
		}
		var users []auth.User
		if err := json.Unmarshal([]byte(ok(t, db, "users", "list", "--format", "json")), &users); err != nil || len(users) != 3 ||
			!users[0].MustChangePassword || !users[1].MustChangePassword || users[2].MustChangePassword {
			t.Errorf("users list --format json: %+v %v", users, err)
		}
		if tbl := ok(t, db, "users", "list"); !regexp.MustCompile(`(?m)^grace\s+editor\s+enabled, one-time password`).MatchString(tbl) ||
			!regexp.MustCompile(`(?m)^linus\s+viewer\s+enabled\s`).MatchString(tbl) {
			t.Errorf("users list:\n%s", tbl)
		}
		// A generated password is always one-time.
		refused(t, db, 1, "a generated password is always one-time", "", "users", "add", "charles", "--role", "viewer", "--no-change-required")
		refused(t, db, 1, "a generated password is always one-time", "", "users", "passwd", "grace", "--no-change-required")
		// The audit log records the flag, never the password.
		audit := ok(t, db, "audit", "list", "--format", "json")
		if !strings.Contains(audit, `must_change_password`) || strings.Contains(audit, pw) {
			t.Errorf("audit list:\n%s", audit)
		}
	})
}
