package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
)

// runIn runs the command line with stdin.
func runIn(t *testing.T, db, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(append([]string{"--db", db}, args...), strings.NewReader(stdin), &out, &errOut)
	return result{out.String(), errOut.String(), code}
}

var oneTime = regexp.MustCompile(`One-time password, shown only now: (\S+)`)

// state is everything a refused command must leave alone: users, tokens
// and the audit log.
func state(t *testing.T, db string) string {
	t.Helper()
	return ok(t, db, "users", "list", "--format", "json") + ok(t, db, "tokens", "list", "--format", "json") +
		ok(t, db, "audit", "list", "--format", "json")
}

// refused runs a command that must fail with code and a message, and
// change nothing.
func refused(t *testing.T, db string, code int, msg, stdin string, args ...string) {
	t.Helper()
	before := state(t, db)
	r := runIn(t, db, stdin, args...)
	if r.code != code || !strings.Contains(r.stderr, msg) {
		t.Errorf("weaklink %s: exit %d, stderr %q; want exit %d and %q", strings.Join(args, " "), r.code, r.stderr, code, msg)
	}
	if after := state(t, db); after != before {
		t.Errorf("weaklink %s changed something", strings.Join(args, " "))
	}
}

func login(t *testing.T, db, user, password string) error {
	t.Helper()
	st, err := OpenStore(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, _, err = service.NewLogins(st, nil).Login(context.Background(), user, password, "127.0.0.1")
	return err
}

func TestUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		out := ok(t, db, "users", "add", "Ada", "--role", "admin")
		m := oneTime.FindStringSubmatch(out)
		if !strings.Contains(out, "Added user ada (admin).") || m == nil {
			t.Fatalf("users add:\n%s", out)
		}
		if err := login(t, db, "ada", m[1]); err != nil {
			t.Errorf("log in with the one-time password: %v", err)
		}
		const pw = "grace hopper's compiler"
		var added userWithPassword
		r := runIn(t, db, pw+"\n", "users", "add", "grace", "--role", "editor", "--password-stdin", "--format", "json")
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &added) != nil || added.Name != "grace" || added.Role != auth.RoleEditor || added.Password != "" {
			t.Fatalf("users add --password-stdin --format json: %+v", r)
		}
		if err := login(t, db, "grace", pw); err != nil {
			t.Errorf("log in with the chosen password: %v", err)
		}

		var users []map[string]any
		js := ok(t, db, "users", "list", "--format", "json")
		if err := json.Unmarshal([]byte(js), &users); err != nil || len(users) != 2 || users[0]["name"] != "ada" || users[1]["role"] != "editor" {
			t.Fatalf("users list --format json:\n%s", js)
		}
		if strings.Contains(js, "argon2") || strings.Contains(js, "hash") {
			t.Errorf("users list shows a hash:\n%s", js)
		}
		if _, ok := users[0]["disabled"]; !ok {
			t.Errorf("users list: no disabled field:\n%s", js)
		}
		tbl := ok(t, db, "users", "list")
		if !regexp.MustCompile(`(?m)^grace\s+editor\s+enabled`).MatchString(tbl) {
			t.Errorf("users list:\n%s", tbl)
		}

		// Changes.
		if out := ok(t, db, "users", "set-role", "grace", "AUDITOR"); !strings.Contains(out, "User grace is auditor.") {
			t.Errorf("set-role: %s", out)
		}
		if out := ok(t, db, "users", "disable", "grace"); !strings.Contains(out, "Disabled user grace") {
			t.Errorf("disable: %s", out)
		}
		if err := login(t, db, "grace", pw); err == nil {
			t.Error("a disabled user logged in")
		}
		var u auth.User
		json.Unmarshal([]byte(ok(t, db, "users", "enable", "grace", "--format", "json")), &u)
		if u.Disabled || u.Role != auth.RoleAuditor {
			t.Errorf("enable: %+v", u)
		}
		const pw2 = "a new and longer passphrase"
		if r := runIn(t, db, pw2+"\r\n", "users", "passwd", "grace", "--password-stdin"); r.code != 0 || strings.Contains(r.stdout, "One-time") {
			t.Errorf("passwd: %+v", r)
		}
		if login(t, db, "grace", pw) == nil || login(t, db, "grace", pw2) != nil {
			t.Error("passwd did not change the password")
		}
		out = ok(t, db, "users", "passwd", "grace")
		if m := oneTime.FindStringSubmatch(out); m == nil || login(t, db, "grace", m[1]) != nil {
			t.Errorf("passwd without a password:\n%s", out)
		}

		// Bad input: a clear error, and nothing changed.
		refused(t, db, 2, `unknown role "editr" (did you mean "editor"?)`, "", "users", "add", "charles", "--role", "editr")
		refused(t, db, 2, `unknown role "root"`, "", "users", "set-role", "grace", "root")
		refused(t, db, 1, `user ada exists`, "", "users", "add", "ADA", "--role", "viewer")
		refused(t, db, 1, "password refused: 8 characters; use at least 15", "hunter22\n", "users", "add", "charles", "--role", "viewer", "--password-stdin")
		refused(t, db, 1, "password refused: it is one of the most common passwords", "Password123456789!", "users", "add", "charles", "--role", "viewer", "--password-stdin")
		refused(t, db, 1, "password refused", "short", "users", "passwd", "grace", "--password-stdin")
		refused(t, db, 2, "standard input is empty", "", "users", "add", "charles", "--role", "viewer", "--password-stdin")
		refused(t, db, 2, "one line", "two\nlines of password\n", "users", "add", "charles", "--role", "viewer", "--password-stdin")
		refused(t, db, 1, "user name", "", "users", "add", "charles!", "--role", "viewer")
		refused(t, db, 1, `required flag(s) "role" not set`, "", "users", "add", "charles")
		refused(t, db, 1, `user "nobody": not found`, "", "users", "rm", "nobody")
		refused(t, db, 1, `user "nobody": not found`, "", "users", "disable", "nobody")
		refused(t, db, 1, "last enabled admin", "", "users", "rm", "ada")
		refused(t, db, 1, "last enabled admin", "", "users", "disable", "ada")
		refused(t, db, 1, "last enabled admin", "", "users", "set-role", "ada", "viewer")

		if out := ok(t, db, "users", "rm", "grace"); !strings.Contains(out, "Removed user grace") {
			t.Errorf("rm: %s", out)
		}
		if js := ok(t, db, "users", "list", "--format", "json"); strings.Contains(js, "grace") {
			t.Errorf("grace is still listed:\n%s", js)
		}
	})
}

func TestTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		ok(t, db, "users", "add", "ada", "--role", "admin")
		ok(t, db, "users", "add", "grace", "--role", "auditor")
		var created tokenWithSecret
		js := ok(t, db, "tokens", "create", "--user", "grace", "--role", "viewer", "--name", "ci", "--expires", "30d", "--format", "json")
		if err := json.Unmarshal([]byte(js), &created); err != nil || created.Role != auth.RoleViewer || created.Name != "ci" ||
			created.ExpiresAt.Sub(created.CreatedAt) != 30*24*60*60*1e9 || !strings.HasPrefix(created.Secret, "wlt_") || !strings.HasPrefix(created.Secret, created.ID) {
			t.Fatalf("tokens create --format json:\n%s", js)
		}
		// The token works, as a viewer.
		st, err := OpenStore(context.Background(), db, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		logins := service.NewLogins(st, nil)
		p, err := logins.Authenticate(context.Background(), created.Secret)
		if err != nil || p.User.Name != "grace" || !p.Can(auth.InventoryRead) || p.Can(auth.AuditRead) {
			t.Fatalf("the token: %+v, %v", p, err)
		}
		// The table output prints the token on a line of its own.
		out := ok(t, db, "tokens", "create", "--user", "grace")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		secret := lines[len(lines)-1]
		if !strings.Contains(out, "for grace (auditor)") || !strings.HasPrefix(secret, "wlt_") || len(secret) != 62 {
			t.Fatalf("tokens create:\n%s", out)
		}
		if _, err := logins.Authenticate(context.Background(), secret); err != nil {
			t.Errorf("the second token: %v", err)
		}

		// Listings show ids, never secrets or hashes.
		list := ok(t, db, "tokens", "list", "--format", "json")
		var ts []map[string]any
		if err := json.Unmarshal([]byte(list), &ts); err != nil || len(ts) != 2 || ts[0]["id"] != created.ID {
			t.Fatalf("tokens list:\n%s", list)
		}
		tbl := ok(t, db, "tokens", "list", "--user", "grace")
		for _, s := range []string{created.Secret, secret, auth.HashSecret(created.Secret), auth.HashSecret(secret)} {
			if strings.Contains(list, s) || strings.Contains(tbl, s) {
				t.Errorf("tokens list shows a secret or hash")
			}
		}
		if !regexp.MustCompile(`(?m)^` + created.ID + `\s+grace\s+ci\s+viewer\s+active`).MatchString(tbl) {
			t.Errorf("tokens list:\n%s", tbl)
		}
		if js := ok(t, db, "tokens", "list", "--user", "ada", "--format", "json"); strings.TrimSpace(js) != "[]" {
			t.Errorf("ada's tokens: %s", js)
		}

		// Bad input.
		refused(t, db, 1, "a token with role editor needs permissions that user grace (auditor) lacks: inventory:write", "",
			"tokens", "create", "--user", "grace", "--role", "editor")
		refused(t, db, 1, "lacks", "", "tokens", "create", "--user", "grace", "--role", "gateway")
		refused(t, db, 2, `unknown role "viewr" (did you mean "viewer"?)`, "", "tokens", "create", "--user", "grace", "--role", "viewr")
		refused(t, db, 2, "tokens always expire", "", "tokens", "create", "--user", "grace", "--expires", "never")
		refused(t, db, 2, "at most 366d", "", "tokens", "create", "--user", "grace", "--expires", "400d")
		refused(t, db, 2, "at most 366d", "", "tokens", "create", "--user", "grace", "--expires", "10s")
		refused(t, db, 1, `user "nobody": not found`, "", "tokens", "create", "--user", "nobody")
		refused(t, db, 1, `required flag(s) "user" not set`, "", "tokens", "create")
		refused(t, db, 1, "not a token id", "", "tokens", "revoke", "grace")
		refused(t, db, 1, "not found", "", "tokens", "revoke", "wlt_aaaaaaaaaa")

		// Revoke, once.
		if out := ok(t, db, "tokens", "revoke", created.ID); !strings.Contains(out, "Revoked API token "+created.ID) {
			t.Errorf("revoke: %s", out)
		}
		refused(t, db, 1, "not found", "", "tokens", "revoke", created.ID)
		if _, err := logins.Authenticate(context.Background(), created.Secret); err == nil {
			t.Error("a revoked token works")
		}
		if tbl := ok(t, db, "tokens", "list"); !regexp.MustCompile(`(?m)^` + created.ID + `\s+grace\s+ci\s+viewer\s+revoked`).MatchString(tbl) {
			t.Errorf("tokens list after revoke:\n%s", tbl)
		}
		// Removing the user revokes the rest.
		ok(t, db, "users", "rm", "grace")
		if _, err := logins.Authenticate(context.Background(), secret); err == nil {
			t.Error("the token of a removed user works")
		}
		if tbl := ok(t, db, "tokens", "list"); strings.Contains(tbl, "active") {
			t.Errorf("an active token after users rm:\n%s", tbl)
		}
	})
}

// TestAuthAuditHasNoSecrets: every user and token change is in the audit
// log, and no password, token, or hash of either is.
func TestAuthAuditHasNoSecrets(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		var secrets []string
		out := ok(t, db, "users", "add", "ada", "--role", "admin")
		secrets = append(secrets, oneTime.FindStringSubmatch(out)[1])
		const pw = "grace hopper's compiler"
		secrets = append(secrets, pw)
		if r := runIn(t, db, pw, "users", "add", "grace", "--role", "editor", "--password-stdin"); r.code != 0 {
			t.Fatal(r)
		}
		out = ok(t, db, "users", "passwd", "grace")
		secrets = append(secrets, oneTime.FindStringSubmatch(out)[1])
		for _, role := range []string{"viewer", "editor"} {
			var tok tokenWithSecret
			json.Unmarshal([]byte(ok(t, db, "tokens", "create", "--user", "grace", "--role", role, "--format", "json")), &tok)
			secrets = append(secrets, tok.Secret, auth.HashSecret(tok.Secret), tok.Secret[14:])
		}
		st, err := OpenStore(context.Background(), db, nil)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := st.GetUser(context.Background(), "grace")
		secrets = append(secrets, u.PasswordHash, strings.Split(u.PasswordHash, "$")[5])
		st.Close()
		if err := login(t, db, "grace", secrets[2]); err != nil {
			t.Fatal(err)
		}
		ok(t, db, "users", "set-role", "grace", "viewer")
		ok(t, db, "users", "disable", "grace")
		ok(t, db, "users", "rm", "grace")

		js := ok(t, db, "audit", "list", "--format", "json")
		tbl := ok(t, db, "audit", "list")
		for _, s := range secrets {
			if strings.Contains(js, s) || strings.Contains(tbl, s) {
				t.Errorf("the audit log holds a secret (%.6s…)", s)
			}
		}
		if strings.Contains(js, "argon2") {
			t.Error("the audit log holds a password hash")
		}
		var entries []audit.Entry
		if err := json.Unmarshal([]byte(js), &entries); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Action+" "+strings.SplitN(e.Object, ":", 2)[0])
		}
		want := []string{"create user", "create user", "update user", "create token", "create token",
			"create session", "update user", "update user", "delete session", "revoke token", "revoke token", "delete user"}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("audit entries:\n got  %s\n want %s", strings.Join(got, ", "), strings.Join(want, ", "))
		}
		if !strings.Contains(tbl, "password") {
			t.Errorf("the password change is not in the table:\n%s", tbl)
		}
		ok(t, db, "audit", "verify")
	})
}
