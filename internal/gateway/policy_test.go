package gateway

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/gateway/adapter"
)

// message builds a one-message batch: an event with properties, and a
// top-level user id field.
func message(t *testing.T, kind adapter.Kind, name, props string) *adapter.Batch {
	t.Helper()
	var obj map[string]any
	if err := adapter.DecodeJSON([]byte(`{"event":"`+name+`","user_id":"u_1","properties":`+props+`}`), &obj); err != nil {
		t.Fatal(err)
	}
	return &adapter.Batch{Messages: []*adapter.Message{{
		Kind: kind, Name: name, Object: obj,
		Props: []adapter.Path{{"properties"}}, Fields: []adapter.Path{{"user_id"}}, Subject: adapter.Path{"user_id"},
	}}}
}

func propsOf(b *adapter.Batch) string {
	out, _ := json.Marshal(b.Messages[0].Object["properties"])
	return string(out)
}

func TestPolicyActions(t *testing.T) {
	e := NewEngine([]byte("0123456789abcdef0123"))
	tests := []struct {
		name   string
		policy *Policy
		props  string
		want   string
	}{
		{"allow-list drops unlisted", &Policy{Mode: "allow", Rules: Rules{Fields: map[string]Rule{"plan": {Action: ActKeep}}}},
			`{"plan":"pro","color":"blue"}`, `{"plan":"pro"}`},
		{"deny-list keeps unlisted", &Policy{Mode: "deny"}, `{"plan":"pro","color":"blue"}`, `{"color":"blue","plan":"pro"}`},
		{"category rule by field name", &Policy{Mode: "deny", Rules: Rules{Categories: map[string]Rule{"user.contact": {Action: ActDrop}}}},
			`{"$email":"a@b.co","plan":"pro"}`, `{"plan":"pro"}`},
		{"category rule by value", &Policy{Mode: "deny", Rules: Rules{Categories: map[string]Rule{"user.contact.email": {Action: ActDrop}}}},
			`{"contact_handle":"ada@example.com","plan":"pro"}`, `{"plan":"pro"}`},
		{"a field rule beats a category rule", &Policy{Mode: "deny", Rules: Rules{
			Fields: map[string]Rule{"$email": {Action: ActKeep}}, Categories: map[string]Rule{"user.contact": {Action: ActDrop}}}},
			`{"$email":"a@b.co"}`, `{"$email":"a@b.co"}`},
		{"the most specific category rule wins", &Policy{Mode: "deny", Rules: Rules{Categories: map[string]Rule{
			"user": {Action: ActDrop}, "user.contact.email": {Action: ActRedact}}}},
			`{"$email":"a@b.co","$name":"Ada"}`, `{"$email":"[redacted]"}`},
		{"redact inside free text", &Policy{Mode: "deny", Rules: Rules{Categories: map[string]Rule{"user.contact": {Action: ActDrop}}}},
			`{"comment":"mail ada@example.com or call +1 415 555 0100 today"}`, `{"comment":"mail [redacted] or call [redacted] today"}`},
		{"nested values are reached", &Policy{Mode: "deny", Rules: Rules{Categories: map[string]Rule{"user.contact": {Action: ActDrop}}}},
			`{"account":{"owner":{"email":"ada@example.com","role":"admin"}},"list":[{"phone":"+14155550100","n":1}]}`,
			`{"account":{"owner":{"role":"admin"}},"list":[{"n":1}]}`},
		{"truncate_ip", &Policy{Mode: "deny", Rules: Rules{Fields: map[string]Rule{"ip": {Action: ActTruncateIP}, "ip6": {Action: ActTruncateIP}, "bad": {Action: ActTruncateIP}}}},
			`{"ip":"203.0.113.77","ip6":"2001:db8:1234:5678::1","bad":"not-an-ip"}`, `{"ip":"203.0.113.0","ip6":"2001:db8:1234::"}`},
		{"generalize location", &Policy{Mode: "deny", Rules: Rules{Fields: map[string]Rule{
			"$city": {Action: ActGeneralize, To: "country"}, "$region": {Action: ActGeneralize, To: "region"}, "mp_country_code": {Action: ActGeneralize, To: "country"}}}},
			`{"$city":"Paris","$region":"IDF","mp_country_code":"FR"}`, `{"$region":"IDF","mp_country_code":"FR"}`},
		{"generalize browser and dates", &Policy{Mode: "deny", Rules: Rules{Fields: map[string]Rule{
			"ua": {Action: ActGeneralize, To: "family"}, "v": {Action: ActGeneralize, To: "major"}, "signup": {Action: ActGeneralize, To: "month"}}}},
			`{"ua":"Mozilla/5.0 (Macintosh) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36","v":"131.0.6778","signup":"2024-03-17T10:00:00Z"}`,
			`{"signup":"2024-03","ua":"Chrome","v":"131"}`},
		{"bucket numbers and dates", &Policy{Mode: "deny", Rules: Rules{Fields: map[string]Rule{
			"age": {Action: ActBucket, Bounds: []float64{18, 25, 35}}, "old": {Action: ActBucket, Bounds: []float64{18, 25, 35}},
			"young": {Action: ActBucket, Bounds: []float64{18, 25, 35}}, "spend": {Action: ActBucket, Size: 100},
			"dob": {Action: ActBucket, Unit: "year"}, "junk": {Action: ActBucket, Size: 10}}}},
			`{"age":27,"old":80,"young":12,"spend":1234.5,"dob":"1990-05-01","junk":"n/a"}`,
			`{"age":"25–35","dob":"1990","old":"≥35","spend":"1200–1300","young":"\u003c18"}`},
		{"hash is keyed and stable", &Policy{Mode: "deny", Rules: Rules{Fields: map[string]Rule{"distinct_id": {Action: ActHash}}}},
			`{"distinct_id":"u_1"}`, `{"distinct_id":"` + NewEngine([]byte("0123456789abcdef0123")).Hash("u_1") + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := message(t, adapter.KindEvent, "Ev", tt.props)
			e.Apply(tt.policy, b, "")
			if got := propsOf(b); got != tt.want {
				t.Errorf("properties after policy:\n got  %s\n want %s", got, tt.want)
			}
		})
	}
	if e.Hash("u_1") == NewEngine([]byte("another-key-of-16+ bytes")).Hash("u_1") || len(e.Hash("u_1")) != 32 {
		t.Error("hash is not keyed, or not 128 bits of hex")
	}
}

func TestPolicyKindsAndEvents(t *testing.T) {
	e := NewEngine([]byte("0123456789abcdef0123"))
	p := &Policy{Mode: "allow",
		Rules:   Rules{Fields: map[string]Rule{"plan": {Action: ActKeep}, "user_id": {Action: ActHash}}},
		Profile: &Rules{Fields: map[string]Rule{"plan": {Action: ActDrop}, "company": {Action: ActKeep}}},
		Event:   &Rules{DropEvents: []string{"Typed Password"}},
	}
	ev := message(t, adapter.KindEvent, "Clicked", `{"plan":"pro","company":"X"}`)
	e.Apply(p, ev, "")
	if got := propsOf(ev); got != `{"plan":"pro"}` {
		t.Errorf("event: %s", got)
	}
	prof := message(t, adapter.KindProfile, "$set", `{"plan":"pro","company":"X"}`)
	out := e.Apply(p, prof, "")
	if got := propsOf(prof); got != `{"company":"X"}` {
		t.Errorf("profile rules do not override: %s", got)
	}
	if out.Subjects[0] != "u_1" || prof.Messages[0].Object["user_id"] != e.Hash("u_1") {
		t.Errorf("subject %q (want the id before hashing), user_id %v", out.Subjects[0], prof.Messages[0].Object["user_id"])
	}
	dropped := message(t, adapter.KindEvent, "Typed Password", `{"plan":"pro"}`)
	out = e.Apply(p, dropped, "")
	if len(dropped.Messages) != 0 || out.DroppedMessages != 1 {
		t.Errorf("drop_events: %d messages left", len(dropped.Messages))
	}
}

func TestPolicyLedgerCategoriesAndReasons(t *testing.T) {
	e := NewEngine([]byte("0123456789abcdef0123"))
	p := &Policy{Mode: "allow", ClientIP: ActDrop, Rules: Rules{
		Fields:     map[string]Rule{"distinct_id": {Action: ActHash}, "mp_country_code": {Action: ActKeep}, "$email": {Action: ActHash}, "token": {Action: ActKeep}},
		Categories: map[string]Rule{"user.name": {Action: ActDrop}},
	}}
	b := message(t, adapter.KindEvent, "Ev", `{"distinct_id":"u_1","mp_country_code":"US","$email":"a@b.co","$name":"Ada","$browser":"Chrome","token":"project-token"}`)
	b.ClientIPUsed = true
	out := e.apply(p, b, "mixpanel", true) // explain: decisions carry paths and reasons
	if !b.DropClientIP {
		t.Error("client_ip: drop does not tell the adapter")
	}
	want := []string{"user.contact.email", "user.location.imprecise", "user.unique_id.pseudonymous"}
	if !slices.Equal(out.Sent[0], want) {
		t.Errorf("sent categories %v, want %v (a keyed hash of an email is still an email; a project token is no credential)", out.Sent[0], want)
	}
	reasons := map[string]string{}
	for _, d := range out.Decisions {
		reasons[d.Path] = fmt.Sprintf("%s/%s/%s", d.Action, d.Category, d.Reason)
	}
	for path, want := range map[string]string{
		"properties.distinct_id": `hash/user.unique_id/field rule for "distinct_id"`,
		"properties.$name":       "drop/user.name/category rule for user.name",
		"properties.$browser":    "drop/user.device.user_agent/not in the allow-list",
		"user_id":                "drop/user.unique_id/not in the allow-list",
	} {
		if reasons[path] != want {
			t.Errorf("%s: %q, want %q", path, reasons[path], want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	env := func(k string) (string, bool) { return "0123456789abcdef0123", k == "KEY" }
	base := `kind: gateway
hash_key: {env: KEY}
routes:
  - {prefix: /mp/, vendor: mixpanel, system: web, adapter: mixpanel, upstream: "https://api.mixpanel.com", policy: p}
policies:
  p: {mode: allow}
`
	if _, err := ParseConfig("g.yaml", []byte(base), env); err != nil {
		t.Fatalf("a valid config: %v", err)
	}
	for name, c := range map[string]struct{ edit, want string }{
		"unknown field":      {"policies:\n  p: {mode: allow, clientip: drop}", `g.yaml:6:20: policies.p.clientip: unknown field (did you mean "client_ip"?)`},
		"bad action":         {"policies:\n  p: {mode: allow, fields: {a: dorp}}", `policies.p.fields.a: action "dorp" is not one of`},
		"unknown category":   {"policies:\n  p: {mode: allow, categories: {user.emial: drop}}", `unknown data category "user.emial"`},
		"generalize without": {"policies:\n  p: {mode: allow, fields: {a: generalize}}", "generalize needs to:"},
		"bucket unsorted":    {"policies:\n  p: {mode: allow, fields: {a: {action: bucket, bounds: [3, 1]}}}", "increasing order"},
		"unknown policy":     {"policies:\n  q: {mode: allow}", `unknown policy "p" (did you mean "q"?)`},
		"upstream with path": {"policies:\n  p: {mode: allow}\n#", ""},
	} {
		t.Run(name, func(t *testing.T) {
			doc := strings.Replace(base, "policies:\n  p: {mode: allow}", c.edit, 1)
			_, err := ParseConfig("g.yaml", []byte(doc), env)
			if c.want == "" {
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	for name, doc := range map[string]string{
		"no hash key":       strings.Replace(base, "hash_key: {env: KEY}\n", "", 1),
		"short hash key":    strings.Replace(base, "env: KEY", "env: NOPE", 1),
		"open upstream":     strings.Replace(base, `"https://api.mixpanel.com"`, `"https://api.mixpanel.com/any/path"`, 1),
		"prefix without /":  strings.Replace(base, "prefix: /mp/", "prefix: mp", 1),
		"unknown adapter":   strings.Replace(base, "adapter: mixpanel", "adapter: mixpannel", 1),
		"not a gateway":     strings.Replace(base, "kind: gateway", "kind: inventory", 1),
		"wrong type":        strings.Replace(base, "mode: allow", "mode: [allow]", 1),
		"bad yaml":          base + "  : :\n\t",
		"duplicate prefix":  strings.Replace(base, "policies:", "  - {prefix: /mp/, vendor: segment, system: web, adapter: segment, upstream: \"https://api.segment.io\", policy: p}\npolicies:", 1),
		"generic w/o paths": strings.Replace(base, "adapter: mixpanel", "adapter: generic", 1),
	} {
		if _, err := ParseConfig("g.yaml", []byte(doc), env); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add("kind: gateway\nhash_key: {env: KEY}\nroutes: [{prefix: /a/, vendor: v, system: s, adapter: generic, upstream: 'http://x', policy: p, generic: {paths: [/e]}}]\npolicies: {p: {mode: deny, fields: {a: {action: bucket, size: 5}}}}")
	f.Add("kind: gateway\npolicies: {p: {mode: allow, event: {drop_events: [x]}, categories: {user: hash}}}")
	env := func(string) (string, bool) { return "0123456789abcdef0123", true }
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := ParseConfig("fuzz.yaml", []byte(doc), env)
		if err == nil {
			if _, err := compile(c); err != nil && !strings.Contains(err.Error(), "routes[") {
				t.Fatalf("a valid config did not compile: %v", err)
			}
		}
	})
}

// FuzzPolicy runs arbitrary Mixpanel payloads through the acme-like policy:
// no panic, and nothing the policy drops by category survives.
func FuzzPolicy(f *testing.F) {
	f.Add(`[{"event":"e","properties":{"distinct_id":"u","$email":"a@b.co","n":{"x":["c@d.io"]},"note":"call +1 415 555 0100"}}]`)
	f.Add(`{"event":"x","properties":{"a":[[[{"b":"ada@example.com"}]]]}}`)
	e := NewEngine([]byte("0123456789abcdef0123"))
	p := &Policy{Mode: "deny", ClientIP: ActDrop, Rules: Rules{
		Fields:     map[string]Rule{"distinct_id": {Action: ActHash}, "age": {Action: ActBucket, Size: 10}, "$city": {Action: ActGeneralize, To: "country"}},
		Categories: map[string]Rule{"user.contact.email": {Action: ActDrop}},
	}}
	f.Fuzz(func(t *testing.T, body string) {
		req := &adapter.Request{Method: "POST", Path: "/track", Header: map[string][]string{"Content-Type": {"application/json"}}, Body: []byte(body)}
		b, err := adapter.Mixpanel{}.Decode(req)
		if err != nil {
			return
		}
		e.Apply(p, b, "mixpanel")
		for _, m := range b.Messages {
			// Walk the real keys and values (not the JSON text: escaping
			// can make email-like text that is not in the data).
			var walk func(v any)
			check := func(s string) {
				for _, f := range e.classifier.Value(s) {
					if f.Category == "user.contact.email" {
						out, _ := json.Marshal(m.Object)
						t.Fatalf("an email (%q) survived the policy: %s", s[f.Start:f.End], out)
					}
				}
			}
			walk = func(v any) {
				switch x := v.(type) {
				case map[string]any:
					for k, sub := range x {
						check(k)
						walk(sub)
					}
				case []any:
					for _, sub := range x {
						walk(sub)
					}
				case string:
					check(x)
				}
			}
			walk(m.Object)
		}
	})
}
