package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/store"
)

const acmeGateway = "../../examples/acme/gateway.yaml"

const explainPayload = `[{"event":"Viewed Usage Page","properties":{"token":"tok","distinct_id":"user_8f2a",
"$email":"ada@example.com","$city":"San Francisco","mp_country_code":"US","plan":"free","note":"write to ada@example.com"}}]`

func TestGatewayExplain(t *testing.T) {
	t.Setenv("WEAKLINK_HASH_KEY", "cli-test-key-0123456789")
	db := filepath.Join(t.TempDir(), "w.db")
	var out, errOut strings.Builder
	code := Main([]string{"--db", db, "gateway", "explain", "--config", acmeGateway, "--vendor", "mixpanel", "--format", "json"},
		strings.NewReader(explainPayload), &out, &errOut)
	if code != 0 {
		t.Fatalf("explain: %d %s", code, errOut.String())
	}
	var ex gateway.Explanation
	if err := json.Unmarshal([]byte(out.String()), &ex); err != nil {
		t.Fatal(err)
	}
	props := ex.Messages[0]["properties"].(map[string]any)
	if _, ok := props["$email"]; ok || props["plan"] != "free" || props["distinct_id"] == "user_8f2a" || props["mp_country_code"] != "US" {
		t.Errorf("explained message = %v", props)
	}
	if !strings.Contains(ex.URL, "api-js.mixpanel.com/track") || !strings.Contains(ex.URL, "ip=0") {
		t.Errorf("explained URL = %s", ex.URL)
	}
	reasons := map[string]string{}
	for _, d := range ex.Decisions {
		reasons[d.Path] = d.Action + ": " + d.Reason
	}
	for path, want := range map[string]string{
		"properties.distinct_id": `hash: field rule for "distinct_id"`,
		"properties.$email":      "drop: category rule for user.contact",
		"properties.$city":       "drop: not in the allow-list",
		"properties.plan":        `keep: field rule for "plan"`,
	} {
		if !strings.HasPrefix(reasons[path], want) {
			t.Errorf("%s: %q, want %q", path, reasons[path], want)
		}
	}
	// The table form names every field, with its reason.
	out.Reset()
	if code := Main([]string{"--db", db, "gateway", "explain", "--config", acmeGateway, "--vendor", "mixpanel"},
		strings.NewReader(explainPayload), &out, &errOut); code != 0 || !strings.Contains(out.String(), "not in the allow-list") {
		t.Errorf("explain table: %d\n%s", code, out.String())
	}
}

func TestGatewayConfigErrors(t *testing.T) {
	t.Setenv("WEAKLINK_HASH_KEY", "cli-test-key-0123456789")
	b, err := os.ReadFile(acmeGateway)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "gateway.yaml")
	broken := strings.Replace(string(b), "distinct_id: hash", "distinct_id: hsah", 1)
	broken = strings.Replace(broken, "user.contact: drop", "user.contakt: drop", 1)
	if err := os.WriteFile(bad, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, filepath.Join(t.TempDir(), "w.db"), "gateway", "explain", "--config", bad, "--vendor", "mixpanel")
	for _, want := range []string{bad + ":", `fields.distinct_id: action "hsah" is not one of`, `(did you mean "hash"?)`,
		`categories.user.contakt: unknown data category "user.contakt" (did you mean "user.contact"?)`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("config error output lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.code != 1 {
		t.Errorf("exit %d", r.code)
	}
}

func TestBlockAndLedgerCommands(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		ok(t, db, "apply", "-f", acme)
		out := ok(t, db, "vendors", "block", "mixpanel", "--reason", "vendor breach")
		if !strings.Contains(out, "Blocked mixpanel") {
			t.Errorf("block output: %s", out)
		}
		if r := run(t, db, "vendors", "block", "nobody"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
			t.Errorf("block of an unknown vendor: %+v", r)
		}
		s, err := OpenStore(context.Background(), db, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		gates, _ := s.Gates(context.Background(), []string{"mixpanel"})
		if b := gates["mixpanel"].Block; b == nil || b.Reason != "vendor breach" {
			t.Fatalf("block not stored: %+v", b)
		}
		ok(t, db, "vendors", "unblock", "mixpanel")
		if r := run(t, db, "vendors", "unblock", "mixpanel"); r.code != 1 {
			t.Errorf("second unblock: %+v", r)
		}
		at := time.Date(2025, 11, 5, 12, 0, 0, 0, time.UTC)
		if err := s.RecordLedger(context.Background(), []store.LedgerEntry{
			{Vendor: "mixpanel", Subject: "h1", Category: "user.unique_id.pseudonymous", FirstSeen: at, LastSeen: at, Messages: 3},
			{Vendor: "mixpanel", Subject: "h2", Category: "user.unique_id.pseudonymous", FirstSeen: at, LastSeen: at, Messages: 1},
		}, []store.ActionCount{{Vendor: "mixpanel", Action: "dropped", Category: "user.contact.email", Count: 4}}); err != nil {
			t.Fatal(err)
		}
		var sum store.LedgerSummary
		if err := json.Unmarshal([]byte(ok(t, db, "ledger", "--vendor", "mixpanel", "--format", "json")), &sum); err != nil {
			t.Fatal(err)
		}
		if sum.Subjects != 2 || len(sum.Categories) != 1 || sum.Categories[0].Messages != 4 || sum.Actions[0].Count != 4 {
			t.Errorf("ledger json = %+v", sum)
		}
		if table := ok(t, db, "ledger", "--vendor", "mixpanel"); !strings.Contains(table, "received data about 2 subjects") {
			t.Errorf("ledger table:\n%s", table)
		}
	})
}
