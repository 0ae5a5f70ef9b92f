package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/cli"
	"github.com/weaklink/weaklink/internal/store"
)

// cliJSON runs the command line against db and decodes its JSON output.
func cliJSON(t *testing.T, db string, args ...string) any {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := cli.Main(append([]string{"--db", db}, args...), strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("weaklink %s: %d %s", strings.Join(args, " "), code, errOut.String())
	}
	var v any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("weaklink %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return v
}

func (e *env) json(r req, want int) any {
	e.t.Helper()
	var v any
	e.ok(r, want, &v)
	return v
}

// shape replaces every value by its JSON type, and lists by their first
// element's shape: what two documents of the same kind share.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, y := range x {
			out[k] = shape(y)
		}
		return out
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		return []any{shape(x[0])}
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func keys(v any) string {
	m, _ := v.(map[string]any)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// TestSameJSONAsTheCLI: for the same data, the API answers exactly what
// the CLI's --format json prints (writes: the same shape).
func TestSameJSONAsTheCLI(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		admin := e.tokens["admin"]
		get := func(path string) any { return e.json(req{method: "GET", path: path, bearer: admin}, 200) }
		if err := e.store.RecordLedger(ctx, []store.LedgerEntry{{Vendor: "mixpanel", Subject: "u1", Category: "user.contact.email",
			FirstSeen: e.clock.Now(), LastSeen: e.clock.Now(), Messages: 2}}, nil); err != nil {
			t.Fatal(err)
		}
		in := e.json(req{method: "POST", path: "/api/v1/incidents", bearer: admin,
			body: `{"vendor": "mixpanel", "title": "export", "categories": ["user.contact.email"]}`}, 201).(map[string]any)
		id := in["id"].(string)
		same := []struct {
			cli []string
			api string
		}{
			{[]string{"vendors", "list"}, "/api/v1/vendors?limit=1000"},
			{[]string{"vendors", "list", "--category", "analytics", "--status", "active"}, "/api/v1/vendors?category=analytics&status=active"},
			{[]string{"vendors", "show", "mixpanel"}, "/api/v1/vendors/mixpanel"},
			{[]string{"systems", "list"}, "/api/v1/systems"},
			{[]string{"flows", "list", "--vendor", "mixpanel", "--category", "user.contact"}, "/api/v1/flows?vendor=mixpanel&category=user.contact"},
			{[]string{"data", "who-has", "user.contact.email"}, "/api/v1/data/who-has?category=user.contact.email"},
			{[]string{"ledger", "--vendor", "mixpanel"}, "/api/v1/ledger/mixpanel"},
			{[]string{"incident", "blast-radius", id}, "/api/v1/incidents/" + id + "/blast-radius"},
			{[]string{"incident", "list"}, "/api/v1/incidents"},
			{[]string{"incident", "show", id}, "/api/v1/incidents/" + id},
			{[]string{"users", "list"}, "/api/v1/users"},
			{[]string{"tokens", "list"}, "/api/v1/tokens"},
			{[]string{"audit", "verify"}, "/api/v1/audit/verify"},
			{[]string{"audit", "list", "--limit", "1000"}, "/api/v1/audit?limit=1000"},
		}
		for _, s := range same {
			c := cliJSON(t, db, append(s.cli, "--format", "json")...)
			a := get(s.api)
			if !reflect.DeepEqual(c, a) {
				cj, _ := json.Marshal(c)
				aj, _ := json.Marshal(a)
				t.Errorf("weaklink %s and GET %s differ:\ncli: %.800s\napi: %.800s", strings.Join(s.cli, " "), s.api, cj, aj)
			}
		}
		// Computed now (the clocks) or written: the same shape.
		similar := []struct {
			name string
			cli  any
			api  any
		}{
			{"clocks", cliJSON(t, db, "incident", "clocks", id, "--format", "json"), get("/api/v1/incidents/" + id + "/clocks")},
			{"incident open", cliJSON(t, db, "incident", "open", "--vendor", "mixpanel", "--title", "t", "--category", "user.name", "--format", "json"), in},
			{"block", cliJSON(t, db, "vendors", "block", "segment", "--reason", "r", "--format", "json"),
				e.json(req{method: "POST", path: "/api/v1/vendors/intercom/block", bearer: admin, body: `{"reason": "r"}`}, 200)},
			{"contain", cliJSON(t, db, "incident", "contain", id, "--format", "json"),
				e.json(req{method: "POST", path: "/api/v1/incidents/" + id + "/contain", bearer: admin}, 200)},
			{"tokens create", cliJSON(t, db, "tokens", "create", "--user", "viewer", "--format", "json"),
				e.json(req{method: "POST", path: "/api/v1/tokens", bearer: admin, body: `{"user": "viewer"}`}, 201)},
			{"users add", cliJSON(t, db, "users", "add", "grace", "--role", "viewer", "--format", "json"),
				e.json(req{method: "POST", path: "/api/v1/users", bearer: admin, body: `{"name": "hopper", "role": "viewer"}`}, 201)},
			{"incident update", cliJSON(t, db, "incident", "update", id, "--owner", "x", "--format", "json"),
				e.json(req{method: "PATCH", path: "/api/v1/incidents/" + id, bearer: admin, body: `{"owner": "y"}`}, 200)},
		}
		for _, s := range similar {
			if !reflect.DeepEqual(shape(s.cli), shape(s.api)) {
				t.Errorf("%s: the CLI's JSON has the keys %s, the API's %s\ncli: %v\napi: %v", s.name, keys(s.cli), keys(s.api), shape(s.cli), shape(s.api))
			}
		}
	})
}
