package web_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/weaklink/weaklink/internal/web"
)

// TestOpenAPI: the document is served without credentials, is JSON of
// OpenAPI 3.1.0, lists exactly the routes the mux serves, declares every
// path parameter, and every $ref in it resolves.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "w.db"), false)
	res := e.ok(req{method: "GET", path: "/api/v1/openapi.json"}, 200, nil)
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name, In string
				Required bool
			} `json:"parameters"`
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(res.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	var inDoc []string
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			inDoc = append(inDoc, strings.ToUpper(method)+" "+path)
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s %s: operationId %q missing or repeated", method, path, op.OperationID)
			}
			ids[op.OperationID] = true
			if len(op.Responses) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
			var declared []string
			for _, p := range op.Parameters {
				if p.In == "path" {
					if !p.Required {
						t.Errorf("%s %s: path parameter %s not required", method, path, p.Name)
					}
					declared = append(declared, p.Name)
				}
			}
			var inPath []string
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
				inPath = append(inPath, m[1])
			}
			if !slices.Equal(inPath, declared) {
				t.Errorf("%s %s: path parameters %v, declared %v", method, path, inPath, declared)
			}
		}
	}
	patterns := e.srv.Patterns()
	slices.Sort(inDoc)
	slices.Sort(patterns)
	if !slices.Equal(inDoc, patterns) {
		t.Errorf("the document's operations:\n%s\nthe mux's routes:\n%s", strings.Join(inDoc, "\n"), strings.Join(patterns, "\n"))
	}
	// Every $ref points at something.
	var raw any
	_ = json.Unmarshal(res.body, &raw)
	walk(raw, func(ref string) {
		if !strings.HasPrefix(ref, "#/") || lookup(raw, strings.Split(ref[2:], "/")) == nil {
			t.Errorf("$ref %q does not resolve", ref)
		}
	})
	// The mux serves what the document says: each pattern answers,
	// with neither the 404 of an unknown path nor a 405.
	for _, p := range patterns {
		method, path, _ := strings.Cut(p, " ")
		r := e.do(req{method: method, path: fillPath(path), bearer: e.tokens["admin"], body: bodyFor(method)})
		if r.status == 405 || r.status == 404 && strings.Contains(string(r.body), "no such endpoint") {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
}

func bodyFor(method string) any {
	if method == "POST" || method == "PATCH" {
		return "{}"
	}
	return nil
}

func walk(v any, fn func(ref string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if s, ok := y.(string); ok && k == "$ref" {
				fn(s)
			}
			walk(y, fn)
		}
	case []any:
		for _, y := range x {
			walk(y, fn)
		}
	}
}

func lookup(v any, path []string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// validator checks response bodies against the document's schemas: the
// document is generated from the Go types, and this checks it against
// what the handlers really write.
type validator struct {
	mu      sync.Mutex
	c       *jsonschema.Compiler
	schemas map[string]*jsonschema.Schema
}

func newValidator(t *testing.T, doc []byte) *validator {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("mem:///openapi.json", v); err != nil {
		t.Fatal(err)
	}
	return &validator{c: c, schemas: map[string]*jsonschema.Schema{}}
}

// check validates body against a route's Response ("Vendor", "[]Vendor").
func (v *validator) check(t *testing.T, response string, body []byte) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	name, list := strings.CutPrefix(response, "[]")
	sch := v.schemas[name]
	if sch == nil {
		var err error
		if sch, err = v.c.Compile("mem:///openapi.json#/components/schemas/" + name); err != nil {
			t.Fatal(err)
		}
		v.schemas[name] = sch
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", response, err)
	}
	items := []any{inst}
	if list {
		arr, ok := inst.([]any)
		if !ok {
			t.Fatalf("%s: not an array: %.200s", response, body)
		}
		items = arr
	}
	for _, it := range items {
		if err := sch.Validate(it); err != nil {
			t.Errorf("a %s does not match the OpenAPI schema: %v\n%.600s", name, err, body)
			return
		}
	}
}

// TestSchemasMatchResponses runs every GET route that returns JSON, as an
// admin with example data and an incident, and validates the bodies
// against the document's schemas.
func TestSchemasMatchResponses(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "w.db"), true)
	doc := e.ok(req{method: "GET", path: "/api/v1/openapi.json"}, 200, nil).body
	v := newValidator(t, doc)
	admin := e.tokens["admin"]
	var in struct{ ID string }
	e.ok(req{method: "POST", path: "/api/v1/incidents", bearer: admin, body: map[string]any{
		"vendor": "mixpanel", "title": "Mixpanel export", "categories": []string{"user.contact.email", "user.name"},
		"times": map[string]string{"vendor_discovered": "2025-11-08T00:00:00Z", "aware": "2025-11-09T10:00:00Z"},
	}}, 201, &in)
	paths := map[string]string{
		"/api/v1/vendors/{id}":                "/api/v1/vendors/mixpanel",
		"/api/v1/ledger/{vendor}":             "/api/v1/ledger/mixpanel",
		"/api/v1/systems/{id}":                "/api/v1/systems/platform-dashboard",
		"/api/v1/flows/{id}":                  "/api/v1/flows/platform-dashboard.mixpanel",
		"/api/v1/incidents/{id}":              "/api/v1/incidents/" + in.ID,
		"/api/v1/incidents/{id}/blast-radius": "/api/v1/incidents/" + in.ID + "/blast-radius",
		"/api/v1/incidents/{id}/clocks":       "/api/v1/incidents/" + in.ID + "/clocks",
		"/api/v1/data/who-has":                "/api/v1/data/who-has?category=user.contact.email",
		"/api/v1/gateway/gates":               "/api/v1/gateway/gates?vendor=segment&vendor=nobody",
	}
	seen := 0
	for _, rt := range web.Routes() {
		if rt.Method != "GET" || rt.Response == "" {
			continue
		}
		path := rt.Path
		if p, ok := paths[path]; ok {
			path = p
		}
		res := e.ok(req{method: "GET", path: path, bearer: admin}, 200, nil)
		v.check(t, rt.Response, res.body)
		seen++
	}
	// And a few writes.
	res := e.ok(req{method: "POST", path: "/api/v1/incidents/" + in.ID + "/contain", bearer: admin}, 200, nil)
	v.check(t, "Containment", res.body)
	res = e.ok(req{method: "PATCH", path: "/api/v1/incidents/" + in.ID, bearer: admin, body: `{"high_risk": true, "note": "n"}`}, 200, nil)
	v.check(t, "Incident", res.body)
	res = e.ok(req{method: "POST", path: "/api/v1/tokens", bearer: admin, body: `{"user": "viewer"}`}, 201, nil)
	v.check(t, "TokenWithSecret", res.body)
	res = e.ok(req{method: "POST", path: "/api/v1/vendors/segment/block", bearer: admin}, 200, nil)
	v.check(t, "Block", res.body)
	res = e.do(req{method: "GET", path: "/api/v1/vendors/nobody", bearer: admin})
	v.check(t, "Error", res.body)
	if seen < 15 {
		t.Errorf("validated %d GET routes", seen)
	}
}
