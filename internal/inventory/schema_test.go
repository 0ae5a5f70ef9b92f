package inventory

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

const schemaPath = "../../docs/inventory.schema.json"

// TestSchemaMatchesModel keeps docs/inventory.schema.json in step with the
// Go types: every inventory-as-code field is in the schema and the schema
// names no field the loader would reject.
func TestSchemaMatchesModel(t *testing.T) {
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]any `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	check := func(what string, got map[string]any, want []string) {
		t.Helper()
		var names []string
		for k := range got {
			names = append(names, k)
		}
		slices.Sort(names)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("schema %s properties = %v, want %v", what, names, want)
		}
	}
	check("top-level", s.Properties, slices.Clone(topLevel))
	for def, typ := range map[string]reflect.Type{
		"vendor": reflect.TypeFor[Vendor](), "system": reflect.TypeFor[System](), "flow": reflect.TypeFor[Flow](),
	} {
		check(def, s.Defs[def].Properties, append(yamlFields(typ), readOnlyFields...))
	}
	check("evidence", s.Defs["evidence"].Properties, yamlFields(reflect.TypeFor[Evidence]()))
}

// TestExamplesMatchSchema validates every document of the acme example
// against the published schema, as an editor or CI of a user would.
func TestExamplesMatchSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../examples/acme/*/*")
	top, _ := filepath.Glob("../../examples/acme/*")
	files = append(files, top...)
	n := 0
	for _, f := range files {
		if !IsInventoryFile(f) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		for {
			var doc any
			if err := dec.Decode(&doc); err != nil {
				break
			}
			if m, ok := doc.(map[string]any); ok && m["kind"] != nil && m["kind"] != KindInventory {
				continue // another kind of weaklink file (a gateway policy), as apply skips it
			}
			// Round-trip through JSON so YAML timestamps become strings.
			j, _ := json.Marshal(doc)
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(j)))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			n++
		}
	}
	if n < 10 {
		t.Fatalf("validated only %d documents", n)
	}
}
