package cli

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

const testHashKey = "incident-test-key-0123456789abcdef"

// dashboardTraffic runs acme's gateway (examples/acme/gateway.yaml) in
// front of a fake Mixpanel, against db, and sends each user's dashboard
// traffic (examples/acme/traffic) through it at the given time. It returns
// the gateway's config file.
func dashboardTraffic(t *testing.T, db string, batches []trafficBatch) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var received atomic.Int64
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.Write([]byte(`{"status":1,"error":null}`))
	}))
	defer vendor.Close()
	dir := t.TempDir()
	b, err := os.ReadFile(acme + "/gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "https://api-js.mixpanel.com", vendor.URL, 1)
	cfg = strings.Replace(cfg, "dir: ./var/spool", "dir: "+filepath.Join(dir, "spool"), 1)
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var now atomic.Pointer[time.Time]
	g, err := gateway.New(ctx, gateway.Options{ConfigPath: cfgPath, Service: service.New(st), AllowPrivateUpstreams: true,
		LookupEnv: func(k string) (string, bool) { return testHashKey, k == "WEAKLINK_HASH_KEY" },
		Now:       func() time.Time { return *now.Load() }, ObservedEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	sent := 0
	for _, batch := range batches {
		at := batch.at
		now.Store(&at)
		for _, user := range batch.users {
			for _, kind := range []string{"track", "engage"} {
				form := userTraffic(t, kind, user)
				resp, err := http.Post(srv.URL+"/mp/"+kind+"?ip=1", "application/x-www-form-urlencoded", strings.NewReader(form))
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s for %s: status %d", kind, user, resp.StatusCode)
				}
				sent++
			}
		}
	}
	if err := g.Ledger().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if int(received.Load()) != sent {
		t.Fatalf("Mixpanel received %d requests, %d sent", received.Load(), sent)
	}
	return cfgPath
}

type trafficBatch struct {
	at    time.Time
	users []string
}

// userTraffic is the recorded dashboard traffic of one kind with the user
// id replaced.
func userTraffic(t *testing.T, kind, user string) string {
	t.Helper()
	raw, err := os.ReadFile(acme + "/traffic/" + kind + ".form")
	if err != nil {
		t.Fatal(err)
	}
	q, err := url.ParseQuery(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	js, err := base64.StdEncoding.DecodeString(q.Get("data"))
	if err != nil {
		t.Fatal(err)
	}
	js = []byte(strings.ReplaceAll(string(js), "user_8f2a", user))
	return url.Values{"data": {base64.StdEncoding.EncodeToString(js)}}.Encode()
}

// TestMixpanelIncident is the November 2025 Mixpanel breach, end to end on
// acme, on both databases: the dashboard's traffic goes through the gateway
// (so the ledger knows what Mixpanel really received), the incident is
// opened with the real dates, and blast radius, clocks, containment and the
// notification pack are checked against the ledger.
func TestMixpanelIncident(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		t.Setenv("WEAKLINK_HASH_KEY", testHashKey)
		ok(t, db, "apply", "-f", acme)
		inWindow := []string{"user_de1", "user_fr1", "user_gb1", "user_ca1", "user_tx1"}
		cfg := dashboardTraffic(t, db, []trafficBatch{
			{time.Date(2025, 11, 5, 10, 0, 0, 0, time.UTC), inWindow},
			{time.Date(2025, 11, 20, 10, 0, 0, 0, time.UTC), []string{"user_late"}}, // after the affected window
		})
		res := filepath.Join(t.TempDir(), "residence.csv")
		os.WriteFile(res, []byte("user_id,jurisdiction\nuser_de1,DE\nuser_fr1,fr\nuser_gb1,GB\nuser_ca1,US-CA\nuser_tx1,US-TX\nuser_late,DE\n"), 0o644)
		if out := ok(t, db, "subjects", "import", res, "--gateway-config", cfg); !strings.Contains(out, "6 people") {
			t.Errorf("subjects import: %s", out)
		}

		// What the ledger recorded in the window, read straight from the store.
		from, to := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 11, 9, 0, 0, 0, 0, time.UTC)
		stated := []string{"user.name", "user.contact.email", "user.unique_id", "user.contact.organization",
			"user.location.imprecise", "user.device.user_agent", "user.behavior.referrer"}
		ledgerCats, ledgerSubjects := ledgerInWindow(t, db, from, to)
		if len(ledgerSubjects) != len(inWindow) || len(ledgerCats) == 0 {
			t.Fatalf("ledger in window: %v subjects, categories %v", ledgerSubjects, ledgerCats)
		}

		args := []string{"incident", "open", "--vendor", "mixpanel", "--title", "Mixpanel: analytics dataset exported after smishing",
			"--vendor-discovered", "2025-11-09", "--vendor-notified", "2025-11-25T18:00:00Z", "--aware", "2025-11-25T18:00:00Z",
			"--window-from", "2025-11-01", "--window-to", "2025-11-09", "--contract-notice", "48h", "--format", "json"}
		for _, c := range stated {
			args = append(args, "--category", c)
		}
		var in incident.Incident
		if err := json.Unmarshal([]byte(ok(t, db, args...)), &in); err != nil {
			t.Fatal(err)
		}
		id := in.ID[:8]

		// Blast radius: exactly the stated categories the ledger recorded,
		// and exactly its subjects in the window.
		csvPath := filepath.Join(t.TempDir(), "affected.csv")
		var b incident.BlastRadius
		if err := json.Unmarshal([]byte(ok(t, db, "incident", "blast-radius", id, "--csv", csvPath, "--format", "json")), &b); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, c := range ledgerCats {
			for _, s := range stated {
				if taxonomy.Overlaps(c, s) {
					want = append(want, c)
					break
				}
			}
		}
		if !slices.Equal(b.Exposed, want) || len(want) == 0 {
			t.Errorf("exposed %v, want the stated categories in the ledger %v (ledger: %v)", b.Exposed, want, ledgerCats)
		}
		if b.Subjects != int64(len(inWindow)) || b.ByJurisdiction["DE"] != 1 || b.ByJurisdiction["FR"] != 1 || b.ByJurisdiction["US-TX"] != 1 {
			t.Errorf("subjects %d by jurisdiction %v", b.Subjects, b.ByJurisdiction)
		}
		// The gateway kept names and emails from Mixpanel; the declared flow
		// still says the dashboard sends them, so they are possibly exposed.
		if slices.Contains(b.Exposed, "user.contact.email") || !slices.Contains(b.PossiblyExposed, "user.contact.email") {
			t.Errorf("email: exposed %v, possibly %v", b.Exposed, b.PossiblyExposed)
		}
		rows := readCSV(t, csvPath)
		var ext []string
		for _, r := range rows[1:] {
			ext = append(ext, r[1])
			if !slices.Contains(ledgerSubjects, r[0]) {
				t.Errorf("csv subject %s not in the ledger's window", r[0])
			}
		}
		slices.Sort(ext)
		if !slices.Equal(ext, []string{"user_ca1", "user_de1", "user_fr1", "user_gb1", "user_tx1"}) {
			t.Errorf("affected people: %v", ext)
		}

		// Clocks: GDPR authority at awareness + 72 h; the 48-hour
		// contractual notice missed by 14 days (and 18 hours).
		var rep struct {
			Duties  []incident.Duty      `json:"duties"`
			Summary incident.DutySummary `json:"summary"`
		}
		if err := json.Unmarshal([]byte(ok(t, db, "incident", "clocks", id, "--org", acme+"/organization.yaml", "--format", "json")), &rep); err != nil {
			t.Fatal(err)
		}
		duty := func(rule string) incident.Duty {
			for _, d := range rep.Duties {
				if d.Rule == rule {
					return d
				}
			}
			t.Fatalf("no duty %s in %+v", rule, rep.Duties)
			return incident.Duty{}
		}
		gdpr := duty("gdpr-art33")
		if gdpr.Applies != incident.AppliesYes || gdpr.Deadline == nil || !gdpr.Deadline.Equal(time.Date(2025, 11, 28, 18, 0, 0, 0, time.UTC)) {
			t.Errorf("GDPR Art. 33: applies %s, deadline %v", gdpr.Applies, gdpr.Deadline)
		}
		contract := duty("contract-vendor-notice")
		if contract.Status != incident.DutyMissed || contract.LateBy == nil || *contract.LateBy != (14*24+18)*time.Hour {
			t.Errorf("contract: status %s, late by %v; want missed by 14d 18h", contract.Status, contract.LateBy)
		}
		for _, d := range rep.Duties {
			if strings.HasPrefix(d.Rule, "us-") && d.Applies == incident.AppliesYes {
				t.Errorf("US state duty %s applies to ids and coarse location: %s", d.Rule, d.Rationale)
			}
		}

		// Contain: the kill switch is on, and the checklist names the
		// Mixpanel token to rotate.
		var c service.Containment
		if err := json.Unmarshal([]byte(ok(t, db, "incident", "contain", id, "--format", "json")), &c); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.Blocked, []string{"mixpanel"}) || !slices.ContainsFunc(c.Rotate, func(cr service.Credential) bool { return strings.Contains(cr.Key, "MIXPANEL") }) || len(c.Questions) < 5 {
			t.Errorf("containment = %+v", c)
		}
		if gate := gateOf(t, db, "mixpanel"); gate.Block == nil || !strings.Contains(gate.Block.Reason, in.ID) {
			t.Errorf("mixpanel's gate after contain: %+v", gate)
		}

		// The notification pack: the people letter has no URL.
		pack := filepath.Join(t.TempDir(), "pack")
		ok(t, db, "incident", "notify", id, "--org", acme+"/organization.yaml", "--out", pack)
		for _, f := range []string{"people.md", "people.html"} {
			data, err := os.ReadFile(filepath.Join(pack, f))
			if err != nil {
				t.Fatal(err)
			}
			if m := regexp.MustCompile(`(?i)https?:|www\.|<a\s|href=|://`).Find(data); m != nil {
				t.Errorf("%s contains a URL: %q", f, m)
			}
			if !strings.Contains(string(data), "What Happened") || !strings.Contains(string(data), "Acme Cloud") {
				t.Errorf("%s does not read like a notice:\n%s", f, data)
			}
		}
		if rows := readCSV(t, filepath.Join(pack, "recipients.csv")); len(rows) != len(inWindow)+1 {
			t.Errorf("recipients.csv has %d rows", len(rows))
		}

		// Everything is on the timeline.
		var view struct {
			Status   incident.Status  `json:"status"`
			Timeline []incident.Event `json:"timeline"`
		}
		if err := json.Unmarshal([]byte(ok(t, db, "incident", "show", id, "--format", "json")), &view); err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range view.Timeline {
			kinds = append(kinds, e.Kind)
		}
		for _, k := range []string{"opened", "blast-radius", "contained", "notified"} {
			if !slices.Contains(kinds, k) {
				t.Errorf("timeline kinds %v lack %s", kinds, k)
			}
		}
		if view.Status != incident.StatusNotifying {
			t.Errorf("status %s after notify", view.Status)
		}
		ok(t, db, "incident", "close", id, "--note", "vendor confirmed scope")
		if out := ok(t, db, "incident", "list", "--open"); strings.Contains(out, id) {
			t.Errorf("closed incident listed as open:\n%s", out)
		}
	})
}

func ledgerInWindow(t *testing.T, db string, from, to time.Time) (cats, subjects []string) {
	t.Helper()
	st, err := OpenStore(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.ScanLedger(context.Background(), store.LedgerFilter{Vendor: "mixpanel", From: from, To: to}, func(e store.LedgerEntry) error {
		if !slices.Contains(cats, e.Category) {
			cats = append(cats, e.Category)
		}
		if !slices.Contains(subjects, e.Subject) {
			subjects = append(subjects, e.Subject)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(cats)
	return cats, subjects
}

func gateOf(t *testing.T, db, vendor string) store.Gate {
	t.Helper()
	st, err := OpenStore(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gates, err := st.Gates(context.Background(), []string{vendor})
	if err != nil {
		t.Fatal(err)
	}
	return gates[vendor]
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestIncidentBadInput: bad flags and facts are refused with the field, and
// change nothing.
func TestIncidentBadInput(t *testing.T) {
	db := filepath.Join(t.TempDir(), "weaklink.db")
	ok(t, db, "apply", "-f", acme)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"incident", "open", "--title", "x"}, 2, "--vendor and --title"},
		{[]string{"incident", "open", "--vendor", "nope", "--title", "x"}, 1, `vendor: "nope" is not in the inventory`},
		{[]string{"incident", "open", "--vendor", "mixpanel", "--title", "x", "--category", "user.nmae"}, 1, "categories[0]"},
		{[]string{"incident", "open", "--vendor", "mixpanel", "--title", "x", "--severity", "huge"}, 1, "severity"},
		{[]string{"incident", "open", "--vendor", "mixpanel", "--title", "x", "--aware", "last tuesday"}, 2, "--aware"},
		{[]string{"incident", "open", "--vendor", "mixpanel", "--title", "x", "--aware", "2025-11-25T18:00"}, 2, "with a zone"},
		{[]string{"incident", "list", "--status", "done"}, 2, "--status"},
		{[]string{"incident", "open", "--vendor", "mixpanel", "--title", "x", "--window-from", "2025-11-09", "--window-to", "2025-11-01"}, 1, "window"},
		{[]string{"incident", "open", "--vendor", "mixpanel", "--title", "x", "--contract-notice", "90m"}, 2, "whole number of hours"},
		{[]string{"incident", "show", "0000"}, 1, "not found"},
		{[]string{"incident", "notify", "0000", "--out", t.TempDir()}, 2, "--org"},
	} {
		r := run(t, db, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, %s; want exit %d with %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
	if out := ok(t, db, "incident", "list", "--format", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("a refused open stored an incident: %s", out)
	}
	bad := filepath.Join(t.TempDir(), "res.csv")
	os.WriteFile(bad, []byte("user_id,jurisdiction\nu1,DE\nu2,Atlantis\n,FR\nu3,EU\nu1,FR\n"), 0o644)
	if r := run(t, db, "subjects", "import", bad); r.code != 2 || !strings.Contains(r.stderr, "--gateway-config FILE") {
		t.Errorf("import without saying how ids are kept: exit %d, %s", r.code, r.stderr)
	}
	r := run(t, db, "subjects", "import", bad, "--plain")
	for _, want := range []string{`res.csv:3: jurisdiction "Atlantis"`, "res.csv:4: user_id is empty", `res.csv:5: jurisdiction "EU"`, `res.csv:6: user_id "u1" is given twice (first on line 2)`} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("bad residence file: exit %d, %s; want %q", r.code, r.stderr, want)
		}
	}
}

// TestIncidentEdges: a date-only window end takes in that whole day; an
// incident stays editable after its vendor leaves the inventory; a
// subprocessor breach needs the vendors to block named; every contain is
// on the timeline.
func TestIncidentEdges(t *testing.T) {
	db := filepath.Join(t.TempDir(), "weaklink.db")
	t.Setenv("WEAKLINK_HASH_KEY", testHashKey)
	ok(t, db, "apply", "-f", acme)
	dashboardTraffic(t, db, []trafficBatch{{time.Date(2025, 11, 9, 22, 0, 0, 0, time.UTC), []string{"user_late_on_the_9th"}}})
	var in incident.Incident
	if err := json.Unmarshal([]byte(ok(t, db, "incident", "open", "--vendor", "mixpanel", "--title", "t",
		"--window-from", "2025-11-01", "--window-to", "2025-11-09", "--format", "json")), &in); err != nil {
		t.Fatal(err)
	}
	var b incident.BlastRadius
	if err := json.Unmarshal([]byte(ok(t, db, "incident", "blast-radius", in.ID, "--format", "json")), &b); err != nil {
		t.Fatal(err)
	}
	if b.Subjects != 1 || b.Rows == 0 {
		t.Errorf("traffic at 22:00 on the window's last day: %d people, %d rows", b.Subjects, b.Rows)
	}
	if b.PossiblyExposed == nil || b.StatedNotSent == nil {
		t.Error("empty lists must be [] in JSON")
	}

	// A breach at a subprocessor: contain refuses to guess.
	var sub incident.Incident
	json.Unmarshal([]byte(ok(t, db, "incident", "open", "--vendor", "azure", "--title", "cloud", "--format", "json")), &sub)
	if r := run(t, db, "incident", "contain", sub.ID); r.code != 1 || !strings.Contains(r.stderr, "--block") {
		t.Errorf("contain on a subprocessor: exit %d, %s", r.code, r.stderr)
	}
	ok(t, db, "incident", "contain", sub.ID, "--block", "intercom")
	ok(t, db, "incident", "contain", sub.ID, "--block", "segment")
	var view struct {
		Timeline []incident.Event `json:"timeline"`
	}
	json.Unmarshal([]byte(ok(t, db, "incident", "show", sub.ID, "--format", "json")), &view)
	n := 0
	for _, e := range view.Timeline {
		if e.Kind == "contained" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d contained events after two contains: %+v", n, view.Timeline)
	}

	// The vendor leaves the inventory; the incident can still be closed.
	ok(t, db, "vendors", "rm", "mixpanel", "--cascade")
	ok(t, db, "incident", "update", in.ID, "--note", "vendor offboarded")
	var closed incident.Incident
	json.Unmarshal([]byte(ok(t, db, "incident", "update", in.ID, "--status", "closed", "--format", "json")), &closed)
	if _, ok := closed.Times[incident.AnchorClosed]; !ok || closed.Status != incident.StatusClosed {
		t.Errorf("closed by update: %+v", closed)
	}
}
