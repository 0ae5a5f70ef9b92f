package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

// remoteNow is the fixed time of the remote tests, for the command line
// and the server alike, so that clocks and timestamps agree.
var remoteNow = time.Date(2025, 11, 27, 9, 0, 0, 0, time.UTC)

// remoteEnv is a real server (web.New, on 127.0.0.1) over a real
// database, which the command line also opens directly: the same
// commands run with --db and with --server must print the same.
type remoteEnv struct {
	t     *testing.T
	db    string
	url   string
	token string // ada's, an admin's
	store store.Store
	logs  *lockedBuffer
	// seen is everything the commands printed, and seenMu guards it.
	seenMu sync.Mutex
	seen   strings.Builder
}

func newRemoteEnv(t *testing.T, db string) *remoteEnv {
	t.Helper()
	prev := clock
	clock = func() time.Time { return remoteNow }
	t.Cleanup(func() { clock = prev })
	e := &remoteEnv{t: t, db: db, logs: &lockedBuffer{}}
	ok(t, db, "apply", "-f", acme)
	ok(t, db, "users", "add", "ada", "--role", "admin")
	var tok service.TokenWithSecret
	if err := json.Unmarshal([]byte(ok(t, db, "tokens", "create", "--user", "ada", "--name", "cli", "--format", "json")), &tok); err != nil {
		t.Fatal(err)
	}
	e.token = tok.Secret
	t.Setenv("WEAKLINK_TOKEN", e.token)

	now := func() time.Time { return remoteNow }
	st, err := OpenStore(context.Background(), db, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	// What the gateway would have recorded, and where the people live.
	var entries []store.LedgerEntry
	for i := range 5 {
		for _, c := range []string{"user.contact.email", "user.name"} {
			entries = append(entries, store.LedgerEntry{Vendor: "mixpanel", Subject: fmt.Sprintf("user_%d", i), Category: c,
				FirstSeen: remoteNow.Add(-20 * 24 * time.Hour), LastSeen: remoteNow.Add(-5 * 24 * time.Hour), Messages: int64(i + 1)})
		}
	}
	if err := st.RecordLedger(context.Background(), entries, []store.ActionCount{{Vendor: "mixpanel", Action: "hashed", Category: "user.contact.email", Count: 7}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutResidence(context.Background(), []store.Residence{{Subject: "user_0", Jurisdiction: "DE"}, {Subject: "user_1", Jurisdiction: "US-CA"}}); err != nil {
		t.Fatal(err)
	}
	svc := service.New(st)
	svc.Now = now
	profile, err := incident.LoadProfile(acme + "/organization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Options{Service: svc, Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), Now: now,
		Profile: profile, AuthCacheTTL: -1, Version: Version})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

// exec runs the command line with stdin and notes what it printed.
func (e *remoteEnv) exec(stdin string, args ...string) result {
	e.t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errOut)
	e.seenMu.Lock()
	e.seen.WriteString(out.String() + errOut.String())
	e.seenMu.Unlock()
	return result{out.String(), errOut.String(), code}
}

// local runs a command on the database; remote, through the server.
func (e *remoteEnv) local(args ...string) result {
	e.t.Helper()
	return e.exec("", append([]string{"--db", e.db}, args...)...)
}

func (e *remoteEnv) remote(args ...string) result {
	e.t.Helper()
	return e.exec("", append([]string{"--server", e.url}, args...)...)
}

// both runs a command remotely, then locally (nothing changes in
// between), and fails unless both succeed with the same output.
func (e *remoteEnv) both(args ...string) string {
	e.t.Helper()
	r := e.remote(args...)
	l := e.local(args...)
	name := strings.Join(args, " ")
	if l.code != 0 {
		e.t.Fatalf("weaklink --db %s: exit %d: %s", name, l.code, l.stderr)
	}
	if r.code != 0 || r.stdout != l.stdout {
		e.t.Errorf("weaklink --server %s: exit %d, stderr %q; output differs from --db's:\n--- server\n%s\n--- db\n%s", name, r.code, r.stderr, r.stdout, l.stdout)
	}
	return l.stdout
}

// ok runs a command through the server and fails unless it succeeds.
func (e *remoteEnv) ok(args ...string) string {
	e.t.Helper()
	r := e.remote(args...)
	if r.code != 0 {
		e.t.Fatalf("weaklink --server %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

var incidentOpened = regexp.MustCompile(`Opened incident (\S+) at`)

func (e *remoteEnv) openIncident(remote bool, args ...string) string {
	e.t.Helper()
	args = append([]string{"incident", "open"}, args...)
	r := e.local(args...)
	if remote {
		r = e.remote(args...)
	}
	m := incidentOpened.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		e.t.Fatalf("incident open (remote %v): %+v", remote, r)
	}
	return m[1]
}

var mixpanelIncident = []string{"--vendor", "mixpanel", "--title", "Mixpanel: analytics data exported", "--severity", "high",
	"--vendor-discovered", "2025-11-09", "--vendor-notified", "2025-11-25T18:00:00Z", "--aware", "2025-11-25T18:00:00Z",
	"--category", "user.name", "--category", "user.contact.email", "--contract-notice", "48h",
	"--window-from", "2025-11-01", "--window-to", "2025-11-26", "--owner", "security", "--notes", "first\nsecond"}

// TestRemoteSameOutput runs every command that works through the API with
// --db and with --server against the same database, on SQLite and
// PostgreSQL, and compares the output byte for byte, as tables and as
// JSON; then the writes, made once each way; then the refusals. The token
// never appears in any output, error or server log.
func TestRemoteSameOutput(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newRemoteEnv(t, db)
		id := e.openIncident(false, mixpanelIncident...)
		e.both("vendors", "block", "segment", "--reason", "DPA lapsed") // a block to list
		e.local("vendors", "unblock", "segment")

		t.Run("reads", func(t *testing.T) {
			e.t = t
			reads := [][]string{
				{"vendors", "list"}, {"vendors", "list", "--category", "analytics"}, {"vendors", "list", "--search", "pay"},
				{"vendors", "list", "--status", "active", "--tag", "no-such-tag"},
				{"vendors", "show", "mixpanel"}, {"vendors", "show", "segment"},
				{"systems", "list"}, {"systems", "show", "platform-dashboard"},
				{"flows", "list"}, {"flows", "list", "--vendor", "mixpanel"}, {"flows", "list", "--category", "user.contact"},
				{"flows", "list", "--system", "platform-dashboard", "--source", "declared"},
				{"flows", "show", "platform-dashboard.mixpanel"},
				{"data", "who-has", "user.contact.email"}, {"data", "who-has", "user.financial"},
				{"ledger", "--vendor", "mixpanel"}, {"ledger", "--vendor", "segment"},
				{"incident", "list"}, {"incident", "list", "--open", "--vendor", "mixpanel"}, {"incident", "list", "--status", "closed"},
				{"incident", "show", id}, {"incident", "show", id[:8]},
				{"incident", "blast-radius", id}, {"incident", "clocks", id}, {"incident", "clocks", id[:8], "--all"},
				{"audit", "list"}, {"audit", "list", "--object", "vendor:segment"}, {"audit", "list", "--limit", "0"},
				{"audit", "list", "--from", "3", "--limit", "5"}, {"audit", "verify"},
				{"users", "list"}, {"tokens", "list"}, {"tokens", "list", "--user", "ada"},
				{"apply", "-f", acme, "--dry-run"}, {"apply", "-f", acme + "/vendors", "-f", acme + "/systems.yaml", "--prune", "--dry-run"},
			}
			for _, args := range reads {
				e.both(args...)
				e.both(append(args, "--format", "json")...)
			}
			for _, format := range []string{"yaml", "json", "csv", "cyclonedx"} {
				e.both("export", "--format", format)
			}
			e.both("export", "--format", "csv", "--kind", "flows")
			e.both("export", "--format", "cyclonedx", "--strict-fideslang")
			// Lists longer than a page are read whole, following the links.
			defer func(n int) { remotePageSize = n }(remotePageSize)
			remotePageSize = 3
			for _, args := range [][]string{{"vendors", "list"}, {"flows", "list"}, {"systems", "list"}, {"audit", "list", "--limit", "0"}, {"audit", "list", "--limit", "7"}} {
				e.both(append(args, "--format", "json")...)
			}
			// The same errors, as the server words them.
			for _, args := range [][]string{{"vendors", "show", "nope"}, {"incident", "show", "00000000"}, {"systems", "show", "nope"}, {"vendors", "block", "nope"}} {
				r, l := e.remote(args...), e.local(args...)
				if r.code != 1 || l.code != 1 || r.stderr != l.stderr {
					t.Errorf("%v: --server exit %d %q, --db exit %d %q", args, r.code, r.stderr, l.code, l.stderr)
				}
			}
		})

		t.Run("writes", func(t *testing.T) {
			e.t = t
			// Block and unblock, once each way.
			block, unblock := []string{"vendors", "block", "segment", "--reason", "breach"}, []string{"vendors", "unblock", "segment"}
			rb, ru := e.ok(block...), e.ok(unblock...)
			if lb, lu := e.local(block...), e.local(unblock...); lb.stdout != rb || lu.stdout != ru {
				t.Errorf("block, unblock: --server %q %q, --db %q %q", rb, ru, lb.stdout, lu.stdout)
			}
			var b store.Block
			if err := json.Unmarshal([]byte(e.ok("vendors", "block", "segment", "--format", "json")), &b); err != nil || b.Vendor != "segment" ||
				!strings.HasPrefix(b.BlockedBy, "token:wlt_") || !b.BlockedAt.Equal(remoteNow) {
				t.Errorf("block through the server: %+v %v", b, err)
			}
			e.ok("vendors", "unblock", "segment")

			// The same incident, opened and changed each way, ends the same.
			rid, lid := e.openIncident(true, mixpanelIncident...), e.openIncident(false, mixpanelIncident...)
			same := func(what string, r, l string) {
				t.Helper()
				r = strings.ReplaceAll(r, rid, "ID")
				l = strings.ReplaceAll(l, lid, "ID")
				if r != l {
					t.Errorf("%s: --server and --db differ:\n--- server\n%s\n--- db\n%s", what, r, l)
				}
			}
			incidentJSON := func(remote bool, id string) string {
				t.Helper()
				r := e.local("incident", "show", id, "--format", "json")
				if r.code != 0 {
					t.Fatalf("show %s: %+v", id, r)
				}
				var v service.IncidentView
				if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
					t.Fatal(err)
				}
				// Who made each change differs (a token, the operating-system
				// user), and so do ids and times; the events do not, but for
				// the note a local blast-radius adds (over the API it is a
				// GET, which changes nothing: docs/api.md).
				v.Timeline = slices.DeleteFunc(v.Timeline, func(ev incident.Event) bool { return ev.Kind == "blast-radius" })
				for i := range v.Timeline {
					ev := &v.Timeline[i]
					ev.ID, ev.Incident, ev.At, ev.Actor = "", "", time.Time{}, ""
				}
				b, _ := json.MarshalIndent(v, "", "  ")
				return string(b)
			}
			same("open", incidentJSON(true, rid), incidentJSON(false, lid))
			for _, upd := range [][]string{
				{"--severity", "critical", "--owner", "ir-team", "--status", "investigating", "--high-risk", "yes", "--material", "no",
					"--window-from", "2025-11-02T10:00:00+01:00", "--window-to", "2025-11-20", "--contract-notice", "72h",
					"--category", "user.contact.email", "--system", "platform-dashboard", "--aware", "2025-11-26T08:00:00Z",
					"--determined", "2025-11-26", "--note", "upgraded", "--title", "Mixpanel export, confirmed"},
				{"--high-risk", "unknown", "--window-from", "", "--vendor-notified", "", "--notes", "", "--category", "", "--system", ""},
				{"--note", "only a note"},
			} {
				r := e.ok(append([]string{"incident", "update", rid}, upd...)...)
				l := e.local(append([]string{"incident", "update", lid}, upd...)...)
				same(fmt.Sprintf("update %v", upd), r, l.stdout)
				same(fmt.Sprintf("after update %v", upd), incidentJSON(true, rid), incidentJSON(false, lid))
			}
			// The affected people, streamed: the same CSV and JSON lines.
			out := t.TempDir()
			files := func(side, id string) (string, string) {
				return filepath.Join(out, side+".csv"), filepath.Join(out, side+".jsonl")
			}
			rc, rj := files("server", rid)
			lc, lj := files("db", lid)
			e.ok("incident", "blast-radius", rid, "--csv", rc, "--json", rj)
			if l := e.local("incident", "blast-radius", lid, "--csv", lc, "--json", lj); l.code != 0 {
				t.Fatalf("local blast-radius --csv: %+v", l)
			}
			for _, pair := range [][2]string{{rc, lc}, {rj, lj}} {
				a, _ := os.ReadFile(pair[0])
				b, err := os.ReadFile(pair[1])
				if err != nil || len(a) == 0 || string(a) != string(b) {
					t.Errorf("%s and %s differ (%v):\n%s\n---\n%s", pair[0], pair[1], err, a, b)
				}
			}
			for _, args := range [][]string{
				{"incident", "contain", "ID", "--reason", "breach"},
				{"incident", "contain", "ID", "--block", "mixpanel,segment", "--format", "json"},
				{"incident", "blast-radius", "ID"},
				{"incident", "clocks", "ID", "--format", "json"},
				{"incident", "close", "ID", "--note", "done"},
			} {
				rargs, largs := slices.Clone(args), slices.Clone(args)
				rargs[2], largs[2] = rid, lid
				r := e.ok(rargs...)
				l := e.local(largs...)
				same(strings.Join(args, " "), r, l.stdout)
			}
			same("close", incidentJSON(true, rid), incidentJSON(false, lid))
			e.local("vendors", "unblock", "mixpanel")
			e.local("vendors", "unblock", "segment")

			// apply: a new vendor, changed, then pruned away, once through
			// the server and once on the database.
			dir := t.TempDir()
			write := func(name, owner string) string {
				t.Helper()
				path := dir + "/" + name
				doc := "vendors:\n  - id: newco\n    name: NewCo\n    category: analytics\n    status: proposed\n    owner: " + owner + "\n"
				if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
					t.Fatal(err)
				}
				return path
			}
			add, change := write("add.yaml", "growth"), write("change.yaml", "data-eng")
			apply := [][]string{
				{"apply", "-f", add, "--dry-run"},
				{"apply", "-f", add, "--format", "json"},
				{"apply", "-f", change},
				{"apply", "-f", acme, "--prune", "--dry-run", "--format", "json"},
				{"apply", "-f", acme, "--prune"},
			}
			var applied []result
			for _, args := range apply {
				applied = append(applied, e.remote(args...))
			}
			for i, args := range apply {
				if l := e.local(args...); applied[i].code != 0 || applied[i].stdout != l.stdout {
					t.Errorf("%v: --server %+v\n--db %+v", args, applied[i], l)
				}
			}
			if out := applied[2].stdout; !strings.Contains(out, "~ vendor newco\n    owner: \"growth\" → \"data-eng\"") || !strings.Contains(out, "Applied.") {
				t.Errorf("apply through the server:\n%s", out)
			}

			// Users and tokens: made and removed through the server, then
			// the same locally.
			steps := [][]string{
				{"users", "add", "bob", "--role", "viewer", "--password-stdin", "--no-change-required"},
				{"users", "set-role", "bob", "editor"},
				{"users", "disable", "bob", "--format", "json"},
				{"users", "enable", "bob"},
				{"users", "list"},
				{"users", "rm", "bob"},
			}
			const pw = "plum orbit cascade 7421 lantern"
			var remoteOut []result
			for _, step := range steps {
				remoteOut = append(remoteOut, e.exec(pw, append([]string{"--server", e.url}, step...)...))
			}
			for i, step := range steps {
				r, l := remoteOut[i], e.exec(pw, append([]string{"--db", e.db}, step...)...)
				if r.code != 0 || r.stdout != l.stdout {
					t.Errorf("%v: --server %+v\n--db %+v", step, r, l)
				}
			}
			var created service.TokenWithSecret
			if err := json.Unmarshal([]byte(e.ok("tokens", "create", "--user", "ada", "--role", "viewer", "--name", "ci", "--expires", "30d", "--format", "json")), &created); err != nil ||
				created.Role != "viewer" || created.Name != "ci" || !created.ExpiresAt.Equal(remoteNow.Add(30*24*time.Hour)) || !strings.HasPrefix(created.Secret, "wlt_") {
				t.Fatalf("tokens create through the server: %+v %v", created, err)
			}
			// A whole token given to revoke sends only its ID.
			if out := e.ok("tokens", "revoke", created.Secret); out != "Revoked API token "+created.ID+".\n" {
				t.Errorf("revoke: %q", out)
			}
			if strings.Contains(e.logs.String(), created.Secret) {
				t.Error("the revoked token's secret reached the server log")
			}
		})

		t.Run("refusals", func(t *testing.T) {
			e.t = t
			refused := func(code int, msg string, r result) {
				t.Helper()
				if r.code != code || !strings.Contains(r.stderr, msg) || r.stdout != "" {
					t.Errorf("exit %d, stderr %q, stdout %q; want exit %d and %q", r.code, r.stderr, r.stdout, code, msg)
				}
			}
			// Commands that need the database say so, and touch nothing.
			for name, args := range map[string][]string{
				"serve": {"serve"}, "migrate": {"migrate"}, "discover": {"discover", "."},
				"import csv": {"import", "csv", "x.csv"}, "vendors add": {"vendors", "add", "x", "--category", "other"},
				"users passwd": {"users", "passwd", "ada"}, "incident notify": {"incident", "notify", "abcd", "--out", t.TempDir()},
				"subjects import": {"subjects", "import", "x.csv", "--plain"},
			} {
				refused(2, "weaklink: "+name+": not available with --server (run it where the database is)\n", e.remote(args...))
			}
			// apply -f with a document that is not an inventory, named: the
			// same error before anything is sent.
			r, l := e.remote("apply", "-f", acme+"/gateway.yaml"), e.local("apply", "-f", acme+"/gateway.yaml")
			if r.code != 1 || r.stderr != l.stderr || !strings.Contains(r.stderr, "not an inventory") {
				t.Errorf("apply -f gateway.yaml: --server %+v, --db %+v", r, l)
			}
			refused(2, "--org and --rules are not available with --server", e.remote("incident", "clocks", "abcd", "--org", "x.yaml"))
			// What needs no database runs as always.
			if r := e.remote("taxonomy", "list"); r.code != 0 || !strings.Contains(r.stdout, "user.contact.email") {
				t.Errorf("taxonomy list with --server: %+v", r)
			}
			// --server and --db together.
			refused(2, "--server and --db exclude each other", e.exec("", "--server", e.url, "--db", e.db, "vendors", "list"))
			// An empty --server (an unset variable in a script) is an error,
			// not the local database.
			refused(2, "--server is empty", e.exec("", "--server", "", "vendors", "block", "mixpanel"))
			// $WEAKLINK_SERVER, overridden by --db.
			t.Setenv("WEAKLINK_SERVER", e.url)
			if r := e.exec("", "--db", e.db, "vendors", "list"); r.code != 0 {
				t.Errorf("--db with $WEAKLINK_SERVER set: %+v", r)
			}
			if r := e.exec("", "vendors", "show", "mixpanel"); r.code != 0 || !strings.Contains(r.stdout, "Mixpanel") {
				t.Errorf("$WEAKLINK_SERVER alone: %+v", r)
			}
			t.Setenv("WEAKLINK_DB", e.db)
			refused(2, "$WEAKLINK_SERVER and $WEAKLINK_DB are both set", e.exec("", "vendors", "list"))
			t.Setenv("WEAKLINK_SERVER", "")
			t.Setenv("WEAKLINK_DB", "")

			// A plain http:// server elsewhere: the token would cross the
			// network in clear.
			refused(2, "plain http:// would send the API token across the network in clear", e.exec("", "--server", "http://weaklink.example.com", "vendors", "list"))
			refused(2, "leave credentials out of the URL", e.exec("", "--server", "https://ada:hunter2@weaklink.example.com", "vendors", "list"))

			// A viewer may read but not block.
			e.local("users", "add", "vic", "--role", "viewer")
			var vt service.TokenWithSecret
			if err := json.Unmarshal([]byte(e.local("tokens", "create", "--user", "vic", "--format", "json").stdout), &vt); err != nil {
				t.Fatal(err)
			}
			t.Setenv("WEAKLINK_TOKEN", vt.Secret)
			e.ok("vendors", "show", "mixpanel")
			refused(1, "your role may not do this: API token "+vt.ID+" of vic (role viewer, user viewer) lacks the permission inventory:write", e.remote("vendors", "block", "mixpanel"))
			refused(1, "your role may not do this", e.remote("users", "list"))
			if out := e.local("vendors", "show", "mixpanel", "--format", "json").stdout; strings.Contains(out, `"blocked"`) {
				t.Errorf("the viewer's block went through: %s", out)
			}

			// No token, a malformed one, a token's ID, a revoked one.
			t.Setenv("WEAKLINK_TOKEN", "")
			refused(2, "--server needs an API token in $WEAKLINK_TOKEN", e.remote("vendors", "list"))
			t.Setenv("WEAKLINK_TOKEN", e.token[:len(e.token)-1]+"x")
			refused(2, "$WEAKLINK_TOKEN: ", e.remote("vendors", "list"))
			t.Setenv("WEAKLINK_TOKEN", vt.ID)
			refused(2, "holds a token's ID", e.remote("vendors", "list"))
			e.local("tokens", "revoke", vt.ID)
			t.Setenv("WEAKLINK_TOKEN", vt.Secret)
			refused(1, "the token is missing, expired or revoked", e.remote("vendors", "list"))
			t.Setenv("WEAKLINK_TOKEN", e.token)
			e.ok("vendors", "list")
		})

		// The token never appeared: not in an output, an error or the log.
		for _, where := range []string{e.seen.String(), e.logs.String()} {
			if strings.Contains(where, e.token) || strings.Contains(where, e.token[4:]) {
				t.Errorf("the API token appeared in what the commands printed or the server logged")
			}
		}
		if !strings.Contains(e.logs.String(), "token:wlt_") {
			t.Error("the server log has no requests by token")
		}
	})
}

func TestServerURL(t *testing.T) {
	for _, tc := range []struct {
		url      string
		insecure bool
		want     string // the base, or the error
	}{
		{"https://weaklink.example.com", false, "https://weaklink.example.com"},
		{"https://weaklink.example.com/", false, "https://weaklink.example.com"},
		{"HTTPS://weaklink.example.com:8443/wl/", false, "https://weaklink.example.com:8443/wl"},
		{"http://127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"http://127.9.9.9", false, "http://127.9.9.9"},
		{"http://[::1]:8080", false, "http://[::1]:8080"},
		{"http://localhost:8080", false, "http://localhost:8080"},
		{"http://10.0.0.1:8080", false, "plain http:// would send the API token across the network in clear"},
		{"http://weaklink.example.com", false, "add --insecure-http if the network is trusted"},
		{"http://localhost.example.com", false, "plain http://"},
		{"http://10.0.0.1:8080", true, "http://10.0.0.1:8080"},
		{"ftp://weaklink.example.com", false, "give an https:// URL"},
		{"weaklink.example.com", false, "give an https:// URL"},
		{"https://", false, "give an https:// URL"},
		{"https://weaklink.example.com/?x=1", false, "without a query or fragment"},
		{"https://weaklink.example.com/#top", false, "without a query or fragment"},
		{"https://ada:s3cret@weaklink.example.com", false, "leave credentials out of the URL"},
		{"https://a b", false, "is not a URL"},
	} {
		u, err := parseServer(tc.url, tc.insecure)
		got := ""
		if err != nil {
			got = err.Error()
			if !errors.As(err, new(usageError)) {
				t.Errorf("%s: not a usage error: %v", tc.url, err)
			}
			if strings.Contains(got, "s3cret") {
				t.Errorf("%s: the message shows the password: %s", tc.url, got)
			}
		} else {
			got = u.String()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("parseServer(%q, %v) = %q, want %q", tc.url, tc.insecure, got, tc.want)
		}
	}
}

// TestRemoteCommandsClassified: every command is known to work through
// the API, to need no database, or to need one (and refuse with
// --server); a new command fails here until it is put in one list.
func TestRemoteCommandsClassified(t *testing.T) {
	a := &app{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || c.Name() == "help" || !c.HasParent() {
			return
		}
		name := commandName(c)
		n := 0
		for _, set := range []map[string]bool{remoteCommands, localCommands, refusedCommands} {
			if set[name] {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%q is in %d of remoteCommands, localCommands and refusedCommands (backend.go), want 1", name, n)
		}
	}
	walk(a.rootCmd())
}

// testToken is a well-formed API token that no server knows.
func testToken(t *testing.T) string {
	t.Helper()
	var tok service.TokenWithSecret
	db := t.TempDir() + "/t.db"
	ok(t, db, "users", "add", "t", "--role", "viewer")
	if err := json.Unmarshal([]byte(ok(t, db, "tokens", "create", "--user", "t", "--format", "json")), &tok); err != nil {
		t.Fatal(err)
	}
	return tok.Secret
}

// TestRemoteAnswers: what the client does with answers a weaklink server
// would not give (a proxy's, another program's): redirects are not
// followed, bodies are bounded, the token stays out of messages.
func TestRemoteAnswers(t *testing.T) {
	token := testToken(t)
	t.Setenv("WEAKLINK_TOKEN", token)
	var mu sync.Mutex
	var authSeen []string
	moving := 0
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		authSeen = append(authSeen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "[]")
	}))
	defer target.Close()
	big := strings.Repeat("x", 2000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect/api/v1/vendors":
			http.Redirect(w, r, target.URL+"/api/v1/vendors", http.StatusFound)
		case "/html/api/v1/vendors":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>login</html>")
		case "/big/api/v1/vendors":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `[{"id": %q}]`, big)
		case "/echo/api/v1/vendors":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error": {"code": "invalid", "message": "you sent %s"}}`, r.Header.Get("Authorization"))
		case "/gateway/api/v1/vendors":
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>bad gateway</html>")
		case "/slow/api/v1/vendors", "/slow/api/v1/vendors/mixpanel/block":
			time.Sleep(300 * time.Millisecond)
		case "/moving/api/v1/vendors": // something is added between every two pages
			mu.Lock()
			moving++
			n := moving
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Total-Count", strconv.Itoa(100+n))
			w.Header().Set("Link", `</api/v1/vendors?offset=1>; rel="next"`)
			fmt.Fprint(w, `[{"id": "a"}]`)
		case "/repeat/api/v1/vendors": // the same page again and again
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Link", `</api/v1/vendors?offset=1>; rel="next"`)
			fmt.Fprint(w, `[{"id": "a"}]`)
		case "/loop/api/v1/vendors":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Link", `<https://evil.example/api/v1/vendors?offset=1>; rel="next"`)
			fmt.Fprint(w, `[{"id": "a"}]`)
		}
	}))
	defer srv.Close()
	defer func(n int64, d time.Duration) { remoteMaxBody, remoteTimeout = n, d }(remoteMaxBody, remoteTimeout)
	remoteMaxBody, remoteTimeout = 1000, 100*time.Millisecond
	for _, tc := range []struct{ prefix, want string }{
		{"/redirect", "answered 302 Found with a redirect to"},
		{"/html", `with "text/html", not JSON: is it weaklink serve?`},
		{"/big", "larger than 1000 bytes"},
		{"/echo", "you sent Bearer " + token[:14] + "…"},
		{"/gateway", "answered 502 Bad Gateway"},
		{"/slow", "did not answer within 100ms"},
		{"/loop", "the server's link to the next page of GET /vendors leads elsewhere"},
		{"/moving", "the list kept changing while it was read in pages; try again"},
		{"/repeat", "the server's link to the next page of GET /vendors goes back (offset 1 after 1)"},
	} {
		var out, errOut bytes.Buffer
		code := Main([]string{"--server", srv.URL + tc.prefix, "vendors", "list"}, strings.NewReader(""), &out, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%s: exit %d, %q; want %q", tc.prefix, code, errOut.String(), tc.want)
		}
		if strings.Contains(errOut.String()+out.String(), token) {
			t.Errorf("%s: the token is in the output: %s", tc.prefix, errOut.String())
		}
	}
	if len(authSeen) != 0 {
		t.Errorf("the redirect was followed: %q", authSeen)
	}
	// A write that timed out may have been made: the message says so.
	var out0, errOut0 bytes.Buffer
	if code := Main([]string{"--server", srv.URL + "/slow", "vendors", "block", "mixpanel"}, strings.NewReader(""), &out0, &errOut0); code != 1 ||
		!strings.Contains(errOut0.String(), "the change may have been made: look before trying again") {
		t.Errorf("a write that timed out: exit %d, %q", code, errOut0.String())
	}

	// A TLS server whose certificate this machine does not trust.
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	remoteTimeout = 5 * time.Second
	var out, errOut bytes.Buffer
	if code := Main([]string{"--server", tlsSrv.URL, "vendors", "list"}, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "set SSL_CERT_FILE") {
		t.Errorf("untrusted certificate: exit %d, %q", code, errOut.String())
	}
	// A server that is not there.
	addr := srv.Listener.Addr().String()
	srv.Close()
	out.Reset()
	errOut.Reset()
	if code := Main([]string{"--server", "http://" + addr, "vendors", "list"}, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "cannot reach the server at http://"+addr) {
		t.Errorf("no server: exit %d, %q", code, errOut.String())
	}
}

// TestInventoryFiles: a remote apply uploads the files LoadPaths read, in
// its order, without other kinds of documents; a file that mixes both is
// refused rather than half sent.
func TestInventoryFiles(t *testing.T) {
	doc, err := inventory.LoadPaths(acme)
	if err != nil {
		t.Fatal(err)
	}
	files, err := inventoryFiles([]string{acme}, doc)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimPrefix(f.name, acme+"/"))
	}
	if !slices.IsSorted(names) || slices.Contains(names, "gateway.yaml") || slices.Contains(names, "organization.yaml") ||
		!slices.Contains(names, "systems.yaml") || !slices.Contains(names, "flows/workforce.json") {
		t.Errorf("files: %v", names)
	}

	dir := t.TempDir()
	mixed := "vendors:\n  - id: newco\n    name: NewCo\n    category: analytics\n---\nkind: gateway\nroutes: []\n"
	if err := os.WriteFile(dir+"/mixed.yaml", []byte(mixed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/.hidden.yaml", []byte("vendors: [{id: x}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc, err = inventory.LoadPaths(dir)
	if err != nil || len(doc.Vendors) != 1 {
		t.Fatalf("LoadPaths: %v %+v", err, doc)
	}
	if _, err := inventoryFiles([]string{dir}, doc); err == nil || !strings.Contains(err.Error(), "move the inventory into a file of its own") {
		t.Errorf("a mixed file: %v", err)
	}
}
