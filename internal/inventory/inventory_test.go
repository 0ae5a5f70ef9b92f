package inventory

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// testChecker uses the embedded taxonomy and a small catalog of its own, so
// these tests do not depend on the embedded catalog's content.
func testChecker(t testing.TB) Checker {
	t.Helper()
	cat, err := catalog.Parse([]byte(`
version: "test"
vendors:
  - id: mixpanel
    name: Mixpanel
    legal_entity: Mixpanel, Inc.
    category: analytics
    website: https://mixpanel.com
    domains: [mixpanel.com, mxpnl.com]
  - id: gcp
    name: Google Cloud
    category: cloud-infrastructure
    website: https://cloud.google.com
    domains: [cloud.google.com]
`))
	if err != nil {
		t.Fatal(err)
	}
	return Checker{Taxonomy: taxonomy.Default(), Catalog: cat}
}

const goodDoc = `version: 1
vendors:
  - id: mixpanel
    catalog: mixpanel
    status: active
    subprocessors: [gcp]
  - id: gcp
    catalog: gcp
    status: active
systems:
  - id: platform-dashboard
    name: Platform dashboard
flows:
  - system: platform-dashboard
    vendor: mixpanel
    categories: [user.name, user.contact.email, user.unique_id]
    purpose: analytics
`

func mustDecode(t *testing.T, src string) *Document {
	t.Helper()
	doc, err := Decode(strings.NewReader(src), "inv.yaml")
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return doc
}

func TestDecodeAndNormalize(t *testing.T) {
	c := testChecker(t)
	doc := mustDecode(t, goodDoc)
	if is := c.Normalize(doc); len(is) > 0 {
		t.Fatal(is)
	}
	if is := c.CheckObjects(doc); len(is) > 0 {
		t.Fatal(is)
	}
	v := doc.Vendors[0]
	if v.Name != "Mixpanel" || v.Category != "analytics" || v.LegalEntity != "Mixpanel, Inc." || len(v.Domains) != 2 {
		t.Errorf("catalog fill: %+v", v)
	}
	if doc.Systems[0].Environment != DefaultEnvironment {
		t.Errorf("environment default = %q", doc.Systems[0].Environment)
	}
	f := doc.Flows[0]
	if f.ID != "platform-dashboard.mixpanel" || f.Source != SourceDeclared {
		t.Errorf("flow defaults: id %q source %q", f.ID, f.Source)
	}
	if got := strings.Join(f.Categories, ","); got != "user.contact.email,user.name,user.unique_id" {
		t.Errorf("categories not canonical: %s", got)
	}
	if p := doc.FlowSrc[0].Field("categories[1]"); p.Line != 16 || p.Column != 29 {
		t.Errorf("position of categories[1] = %v, want 16:29", p)
	}
	// After normalization sorted the list, an element is still named and
	// placed as written: user.contact.email was categories[1].
	if label, p := doc.FlowSrc[0].Elem("categories", "user.contact.email", 0); label != "categories[1]" || p.Column != 29 {
		t.Errorf("Elem = %s at %v, want categories[1] at column 29", label, p)
	}
}

// TestBadInput checks that each kind of bad input gets a precise message with
// file, line and field.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string // substrings of the error, in any order
	}{
		{"malformed yaml", "vendors:\n  - id: a\n    name: [unclosed\n", []string{"inv.yaml:", "invalid YAML"}},
		{"bad indentation", "vendors:\n  - id: a\n   name: x\n", []string{"inv.yaml:", "invalid YAML"}},
		{"tab indentation", "vendors:\n\t- id: a\n", []string{"inv.yaml:2", "invalid YAML"}},
		{"not a mapping", "- a\n- b\n", []string{"inv.yaml:1:1", "expected a mapping"}},
		{"unknown top-level key", "vendor:\n  - id: a\n", []string{"inv.yaml:1:1", `vendor: unknown top-level key (did you mean "vendors"?)`}},
		{"unknown field", "vendors:\n  - id: a\n    name: A\n    categry: other\n", []string{"inv.yaml:4:5", `vendor "a": categry: unknown field (did you mean "category"?)`}},
		{"field twice", "vendors:\n  - id: a\n    name: A\n    name: B\n    category: other\n", []string{"inv.yaml:4:5", "field given twice"}},
		{"wrong type", "vendors:\n  - id: a\n    name: A\n    category: other\n    domains: example.com\n", []string{"inv.yaml:5", "cannot unmarshal"}},
		{"list of scalars", "vendors: 3\n", []string{"inv.yaml:1:10", "expected a list"}},
		{"bad version", "version: 2\n", []string{"inv.yaml:1:10", "unsupported version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.doc), "inv.yaml")
			assertIssues(t, err, tt.want)
		})
	}
}

func assertIssues(t *testing.T, err error, want []string) {
	t.Helper()
	var is Issues
	if !errors.As(err, &is) {
		t.Fatalf("error %v (%T) is not Issues", err, err)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not mention %q:\n%s", w, msg)
		}
	}
}

func TestValidationErrors(t *testing.T) {
	c := testChecker(t)
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown taxonomy key", `
vendors: [{id: v, name: V, category: other}]
systems: [{id: s, name: S}]
flows:
  - system: s
    vendor: v
    purpose: support
    categories: [user.name, user.contact.emial]
`, []string{"inv.yaml:8:29: flow \"s.v\": categories[1]", `flow "s.v": categories[1]: unknown data category "user.contact.emial" (did you mean "user.contact.email"?)`}},
		{"duplicate ids", `
vendors:
  - {id: v, name: V, category: other}
  - {id: v, name: V2, category: other}
`, []string{"inv.yaml:4:10: vendor \"v\": id:", `duplicate vendor id "v" (first defined at inv.yaml:3:5)`}},
		{"two default flow ids", `
vendors: [{id: v, name: V, category: other}]
systems: [{id: s, name: S}]
flows:
  - {system: s, vendor: v, purpose: support, categories: [user.name]}
  - {system: s, vendor: v, purpose: billing, categories: [user.name]}
`, []string{"inv.yaml:6:5", "give each flow an explicit, distinct id"}},
		{"dangling references", `
vendors: [{id: v, name: V, category: other, subprocessors: [gpc]}, {id: gcp, name: G, category: other}]
systems: [{id: dashboard, name: S}]
flows:
  - {system: dashbaord, vendor: vv, purpose: support, categories: [user.name]}
`, []string{`inv.yaml:5:14: flow "dashbaord.vv": system: unknown system "dashbaord" (did you mean "dashboard"?)`,
			`flow "dashbaord.vv": vendor: unknown vendor "vv" (did you mean "v"?)`,
			`inv.yaml:2:61: vendor "v": subprocessors[0]: unknown vendor "gpc" (did you mean "gcp"?)`}},
		{"subprocessor cycle", `
vendors:
  - {id: a, name: A, category: other, subprocessors: [b]}
  - {id: b, name: B, category: other, subprocessors: [c]}
  - {id: c, name: C, category: other, subprocessors: [a]}
`, []string{`vendor "c": subprocessors[0]: subprocessor cycle: a → b → c → a`, "inv.yaml:5:55"}},
		{"self subprocessor", `vendors: [{id: a, name: A, category: other, subprocessors: [a]}]`, []string{"a vendor cannot be its own subprocessor"}},
		{"enums and formats", `
vendors:
  - id: Bad_ID
    name: X
    category: analytic
    status: live
    website: ftp://x
    domains: ["https://x.com/path"]
    criticality: extreme
`, []string{`id: "Bad_ID" is not a valid id`, `category: "analytic" is not one of`, `(did you mean "analytics"?)`,
			`status: "live" is not one of`, `website: "ftp://x" is not an http(s) URL`, `domains[0]: "https://x.com/path" is not a hostname`,
			`criticality: "extreme"`}},
		{"flow fields", `
vendors: [{id: v, name: V, category: other}]
systems: [{id: s, name: S, environment: prod}]
flows:
  - id: x
    system: s
    vendor: v
    categories: []
    purpose: fun
    subjects: [aliens]
    source: rumour
    estimated_subjects: -1
    first_seen: 2025-02-01T00:00:00Z
    last_seen: 2025-01-01T00:00:00Z
    evidence: [{kind: doc, ref: ""}]
`, []string{`system "s": environment: "prod" is not one of`, "categories: at least one data category is required",
			`purpose: "fun" is not one of`, `subjects[0]: "aliens"`, `source: "rumour"`, "estimated_subjects: must not be negative",
			"last_seen: is before first_seen", "evidence[0]: ref is required"}},
		{"unknown catalog id", `vendors: [{id: v, catalog: mixpannel}]`, []string{`catalog: unknown catalog vendor "mixpannel" (did you mean "mixpanel"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustDecode(t, tt.doc)
			_, is := c.Prepare(doc, Inventory{}, false)
			if len(is) == 0 {
				t.Fatal("Prepare accepted invalid input")
			}
			assertIssues(t, is, tt.want)
		})
	}
	// A catalog-filled vendor with an unknown id gets one error, not three.
	_, is := c.Prepare(mustDecode(t, `vendors: [{id: v, catalog: nope}]`), Inventory{}, false)
	if len(is) != 1 {
		t.Errorf("unknown catalog id: %d issues, want 1: %v", len(is), is)
	}
}

func TestReferencesAgainstStoredState(t *testing.T) {
	c := testChecker(t)
	stored := Inventory{
		Vendors: []Vendor{{ID: "gcp", Name: "G", Category: "other", Status: "active"}, {ID: "b", Name: "B", Category: "other", Status: "active", Subprocessors: []string{"a"}}},
		Systems: []System{{ID: "s", Name: "S", Environment: "production"}},
	}
	// Without prune, a file may refer to stored objects it does not contain.
	plan, is := c.Prepare(mustDecode(t, `
vendors: [{id: a, name: A, category: other, subprocessors: [gcp]}]
flows: [{system: s, vendor: gcp, purpose: operations, categories: [user]}]
`), stored, false)
	if len(is) > 0 {
		t.Fatal(is)
	}
	if cr, u, d := plan.Counts(); cr != 2 || u != 0 || d != 0 {
		t.Fatalf("plan %d/%d/%d", cr, u, d)
	}
	// A cycle through a stored vendor is caught: a → b is new, b → a stored.
	_, is = c.Prepare(mustDecode(t, `vendors: [{id: a, name: A, category: other, subprocessors: [b]}]`), stored, false)
	assertIssues(t, is, []string{"subprocessor cycle: a → b → a"})
	// With prune, stored objects the files leave out are deleted, and what
	// referred to them must go too.
	_, is = c.Prepare(mustDecode(t, `flows: [{system: s, vendor: gcp, purpose: operations, categories: [user]}]`), stored, true)
	assertIssues(t, is, []string{`unknown system "s"`, `unknown vendor "gcp"`})
}

func TestDiff(t *testing.T) {
	c := testChecker(t)
	doc := mustDecode(t, goodDoc)
	plan, is := c.Prepare(doc, Inventory{}, false)
	if len(is) > 0 {
		t.Fatal(is)
	}
	current := plan.Result(Inventory{})
	for i := range current.Vendors {
		current.Vendors[i].Revision = 1
	}
	// The same files again: nothing to do.
	again, is := c.Prepare(mustDecode(t, goodDoc), current, true)
	if len(is) > 0 || !again.Empty() {
		t.Fatalf("re-plan not empty: %v %+v", is, again.Changes)
	}
	// Change a field, add a tag, drop the flow (prune).
	changed := strings.Replace(goodDoc, "status: active\n    subprocessors", "status: offboarding\n    tags: [incident]\n    subprocessors", 1)
	changed = changed[:strings.Index(changed, "flows:")]
	p, is := c.Prepare(mustDecode(t, changed), current, true)
	if len(is) > 0 {
		t.Fatal(is)
	}
	var buf bytes.Buffer
	if err := p.WriteText(&buf, 0); err != nil {
		t.Fatal(err)
	}
	want := `- flow platform-dashboard.mixpanel
~ vendor mixpanel
    status: "active" → "offboarding"
    tags: null → ["incident"]
Plan: 0 to create, 1 to update, 1 to delete.
`
	if buf.String() != want {
		t.Errorf("plan text:\n%s\nwant:\n%s", buf.String(), want)
	}
	if p.Changes[1].Revision != 1 {
		t.Errorf("update does not carry the stored revision: %+v", p.Changes[1])
	}
}

func TestRoundTripYAMLAndJSON(t *testing.T) {
	c := testChecker(t)
	plan, is := c.Prepare(mustDecode(t, goodDoc), Inventory{}, false)
	if len(is) > 0 {
		t.Fatal(is)
	}
	inv := plan.Result(Inventory{})
	for name, write := range map[string]func(*bytes.Buffer) error{
		"yaml": func(b *bytes.Buffer) error { return WriteYAML(b, inv, "test") },
		"json": func(b *bytes.Buffer) error { return WriteJSON(b, inv) },
	} {
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			t.Fatal(err)
		}
		doc, err := Decode(&buf, "export."+name)
		if err != nil {
			t.Fatalf("%s: re-reading the export: %v", name, err)
		}
		p, is := c.Prepare(doc, inv, true)
		if len(is) > 0 || !p.Empty() {
			t.Errorf("%s: export then apply is not a no-op: %v %+v", name, is, p.Changes)
		}
	}
}

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("vendors/a.yaml", "vendors: [{id: a, name: A, category: other}]\n---\nvendors: [{id: b, name: B, category: other}]\n")
	write("systems.yml", "systems: [{id: s, name: S}]\n")
	write("flows/f.json", `{"flows": [{"system": "s", "vendor": "a", "purpose": "support", "categories": ["user.name"], "revision": 3}]}`)
	write(".hidden/x.yaml", "this: is not read\n")
	write("gateway.yaml", "kind: gateway\nroutes: [{path: /mp/}]\n") // another kind of weaklink file
	write("notes.txt", "not read either\n")
	doc, err := LoadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Vendors) != 2 || len(doc.Systems) != 1 || len(doc.Flows) != 1 {
		t.Fatalf("loaded %d/%d/%d", len(doc.Vendors), len(doc.Systems), len(doc.Flows))
	}
	if got := doc.FlowSrc[0].Pos.File; got != filepath.Join(dir, "flows/f.json") {
		t.Errorf("flow file = %s", got)
	}
	// Named explicitly, a document of another kind is an error.
	_, err = LoadPaths(filepath.Join(dir, "gateway.yaml"))
	assertIssues(t, err, []string{"gateway.yaml:1:7", `this is a "gateway" document, not an inventory`})
	// Errors from several files come back together.
	write("bad1.yaml", "vendors: [{id: x, nam: X}]\n")
	write("bad2.yaml", "systems: [{id: y, nmae: Y}]\n")
	_, err = LoadPaths(dir)
	assertIssues(t, err, []string{"bad1.yaml:1:19", "bad2.yaml:1:19"})
	if _, err := LoadPaths(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing path was accepted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(goodDoc)
	f.Add("vendors: [{id: a}]\n---\nflows: [{id: x, categories: [a]}]")
	f.Add(`{"vendors": [{"id": "a", "name": "A", "category": "other"}]}`)
	f.Add("a: &x [*x]")
	f.Add("vendors:\n  - id: a\n    tags: !!binary aGVsbG8=\n")
	c := testChecker(f)
	f.Fuzz(func(t *testing.T, src string) {
		doc, err := Decode(strings.NewReader(src), "fuzz.yaml")
		if err != nil {
			var is Issues
			if !errors.As(err, &is) || len(is) == 0 {
				t.Fatalf("error is not a non-empty Issues: %v", err)
			}
			return
		}
		// Whatever decodes must validate without panicking, and a plan
		// that validates must re-plan as a no-op against its own result.
		plan, is := c.Prepare(doc, Inventory{}, false)
		if len(is) > 0 {
			return
		}
		res := plan.Result(Inventory{})
		again, is := c.Prepare(FromInventory(res), res, true)
		if len(is) > 0 || !again.Empty() {
			t.Fatalf("result of a valid plan does not re-plan to nothing: %v %+v", is, again.Changes)
		}
	})
}
