package inventory

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// -update rewrites testdata/cyclonedx/golden.json. Registered in init, and
// only if no other test file of the package has registered it already.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func cdxUpdateGolden() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	b, _ := g.Get().(bool)
	return b
}

const cdxSchemaBase = "http://cyclonedx.org/schema/"

// cdxSchemaLoader serves the CycloneDX schemas from testdata/cyclonedx and
// refuses everything else: the test never touches the network.
type cdxSchemaLoader struct{ dir string }

func (l cdxSchemaLoader) Load(url string) (any, error) {
	name, ok := strings.CutPrefix(url, cdxSchemaBase)
	if !ok || name == "" || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("no local copy of %s (the schema test does not use the network)", url)
	}
	f, err := os.Open(filepath.Join(l.dir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

func cdxSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.UseLoader(cdxSchemaLoader{dir: filepath.Join("testdata", "cyclonedx")})
	c.AssertFormat() // check date-time, iri-reference… too, not only structure
	sch, err := c.Compile(cdxSchemaBase + "bom-1.6.schema.json")
	if err != nil {
		t.Fatalf("compiling the CycloneDX 1.6 schema: %v", err)
	}
	return sch
}

func cdxValidate(t *testing.T, sch *jsonschema.Schema, bom []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(bom))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("BOM does not validate against bom-1.6.schema.json:\n%v\n%s", err, bom)
	}
}

func cdxTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// cdxTestInventory is a small but realistic inventory: vendors with
// subprocessors inside and outside the inventory, systems, and flows with
// several data categories, including weaklink extension categories.
func cdxTestInventory() Inventory {
	return Inventory{
		Vendors: []Vendor{
			{ID: "stripe", Name: "Stripe", LegalEntity: "Stripe, Inc.", Website: "https://stripe.com",
				Domains: []string{"stripe.com", "api.stripe.com"}, Category: "payments", Owner: "finance@acme.example",
				Status: "active", Criticality: "critical", Description: "Card payments & payouts",
				Tags: []string{"pci", "tier-1"}, Subprocessors: []string{"aws"}, Catalog: "stripe",
				Meta: Meta{Revision: 7, CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}},
			{ID: "aws", Name: "Amazon Web Services", LegalEntity: "Amazon Web Services EMEA SARL",
				Website: "https://aws.amazon.com", Domains: []string{"amazonaws.com"}, Category: "cloud-infrastructure",
				Status: "active", Criticality: "critical"},
			{ID: "sentry", Name: "Sentry", Website: "https://sentry.io", Domains: []string{"sentry.io", "ingest.sentry.io"},
				Category: "error-tracking", Status: "active", Criticality: "medium", Owner: "platform",
				Subprocessors: []string{"aws", "google-cloud"}},
			{ID: "mixpanel", Name: "Mixpanel", Domains: []string{"api-js.mixpanel.com"}, Category: "analytics",
				Status: "offboarding", Tags: []string{"marketing"}},
			{ID: "openai", Name: "OpenAI", LegalEntity: "OpenAI Ireland Ltd", Website: "https://openai.com",
				Domains: []string{"api.openai.com"}, Category: "ai", Status: "proposed", Subprocessors: []string{"microsoft-azure"}},
		},
		Systems: []System{
			{ID: "checkout-api", Name: "Checkout API", Description: "Takes orders and payments", Owner: "payments-team",
				Environment: "production", Repository: "https://github.com/acme/checkout", Tags: []string{"pci"}},
			{ID: "web-app", Name: "Web app", Environment: "production", Repository: "git@github.com:acme/web.git"},
			{ID: "support-bot", Name: "Support bot", Environment: "staging", Owner: "support-eng"},
		},
		Flows: []Flow{
			{ID: "checkout-api.stripe", System: "checkout-api", Vendor: "stripe",
				Categories: []string{"user.financial.credit_card", "user.contact.email", "user.name", "user.contact.address"},
				Subjects:   []string{"customer"}, Purpose: "billing", LegalBasis: "contract", EstimatedSubjects: 250000,
				Source: SourceDeclared, Description: "Card details and billing contact for each order",
				Evidence: []Evidence{{Kind: "document", Ref: "DPA-2024-17"}}},
			{ID: "checkout-api.sentry", System: "checkout-api", Vendor: "sentry",
				Categories: []string{"user.device.ip_address", "user.contact.email", "system.operations"},
				Purpose:    "operations", LegalBasis: "legitimate_interests", Source: SourceDiscovered,
				FirstSeen: cdxTime("2025-02-03T10:00:00+01:00"), LastSeen: cdxTime("2025-06-01T12:00:00Z")},
			{ID: "web-app.mixpanel", System: "web-app", Vendor: "mixpanel",
				Categories: []string{"user.device.user_agent", "user.device.device_id", "user.behavior.referrer",
					"user.behavior.browsing_history"},
				Subjects: []string{"visitor", "customer"}, Purpose: "analytics", LegalBasis: "consent", Source: SourceObserved},
			{ID: "web-app.sentry", System: "web-app", Vendor: "sentry",
				Categories: []string{"user.device.user_agent", "user.device"}, Purpose: "operations", Source: SourceObserved},
			{ID: "support-bot.openai", System: "support-bot", Vendor: "openai",
				Categories: []string{"user.content.private", "user.name"}, Subjects: []string{"customer"},
				Purpose: "ai_processing", LegalBasis: "legitimate_interests", Source: SourceDeclared},
		},
	}
}

// cdxTestOptions fix everything that would otherwise vary; the taxonomy is
// our own so that the golden file does not change with the embedded one's
// version.
var cdxTestOptions = CycloneDXOptions{
	Timestamp:   time.Date(2025, 7, 1, 9, 30, 0, 0, time.FixedZone("CEST", 2*3600)),
	ToolVersion: "0.9.0",
	Taxonomy: func() *taxonomy.Tree {
		tree, err := taxonomy.Parse([]byte("version: golden-test\ncategories:\n  - {key: user, name: User, sensitivity: 1}\n"))
		if err != nil {
			panic(err)
		}
		return tree
	}(),
}

func cdxWrite(t *testing.T, inv Inventory, opts CycloneDXOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCycloneDX(&buf, inv, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCycloneDXSchemaValid(t *testing.T) {
	sch := cdxSchema(t)
	tests := []struct {
		name string
		inv  Inventory
		opts CycloneDXOptions
	}{
		{"realistic inventory", cdxTestInventory(), cdxTestOptions},
		{"strict", cdxTestInventory(), CycloneDXOptions{Strict: true, ToolVersion: "dev"}},
		{"explicit serial, no timestamp or version", cdxTestInventory(),
			CycloneDXOptions{SerialNumber: "urn:uuid:3E671687-395B-41F5-A30F-A58921A69B79"}},
		{"empty inventory", Inventory{}, CycloneDXOptions{}},
		{"dangling references and odd values", Inventory{
			Vendors: []Vendor{{ID: "x", Domains: []string{"not a host", "10.0.0.1", "::1"}, Website: "x.example",
				Subprocessors: []string{"x", "missing"}}},
			Systems: []System{{ID: "s", Repository: "not a url"}},
			Flows: []Flow{{ID: "s.gone", System: "s", Vendor: "gone", Categories: []string{"user.unknown"}},
				{ID: "gone.x", System: "gone", Vendor: "x"}},
		}, cdxTestOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cdxValidate(t, sch, cdxWrite(t, tt.inv, tt.opts))
		})
	}
}

// The schema check is real: a BOM that breaks the data-flow rules fails.
func TestCycloneDXSchemaRejectsInvalid(t *testing.T) {
	sch := cdxSchema(t)
	bom := cdxWrite(t, cdxTestInventory(), cdxTestOptions)
	for _, bad := range []struct{ from, to string }{
		{`"flow": "inbound"`, `"flow": "sideways"`},
		{`"specVersion": "1.6",`, `"specVersion": "1.6", "unknownField": true,`},
		{`"trustZone": "internal"`, `"trustZone": 7`},
		{`"timestamp": "2025-07-01T07:30:00Z"`, `"timestamp": "yesterday"`},
	} {
		broken := bytes.Replace(bom, []byte(bad.from), []byte(bad.to), 1)
		if bytes.Equal(broken, bom) {
			t.Fatalf("%q not found in the BOM", bad.from)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(broken))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(inst) == nil {
			t.Errorf("BOM with %s validated", bad.to)
		}
	}
}

func TestCycloneDXGolden(t *testing.T) {
	got := cdxWrite(t, cdxTestInventory(), cdxTestOptions)
	golden := filepath.Join("testdata", "cyclonedx", "golden.json")
	if cdxUpdateGolden() {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update if the change is intended):\n%s", golden, got)
	}
}

func TestCycloneDXDeterministic(t *testing.T) {
	inv := cdxTestInventory()
	first := cdxWrite(t, inv, cdxTestOptions)
	if again := cdxWrite(t, inv, cdxTestOptions); !bytes.Equal(first, again) {
		t.Error("two runs gave different output")
	}
	if !reflect.DeepEqual(inv, cdxTestInventory()) {
		t.Error("WriteCycloneDX modified its input")
	}
	// Order of lists and of set-valued fields, and store metadata, do not matter.
	shuffled := cdxTestInventory()
	slices.Reverse(shuffled.Vendors)
	slices.Reverse(shuffled.Systems)
	slices.Reverse(shuffled.Flows)
	for i := range shuffled.Flows {
		slices.Reverse(shuffled.Flows[i].Categories)
	}
	shuffled.Vendors[0].Revision = 99
	shuffled.Flows[0].Evidence = nil
	if got := cdxWrite(t, shuffled, cdxTestOptions); !bytes.Equal(first, got) {
		t.Errorf("reordered input gave different output:\n%s", got)
	}
	if !strings.HasPrefix(string(first), "{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.6\",") {
		t.Errorf("output does not start with a 2-space indented CycloneDX header:\n%.200s", first)
	}
}

// cdxDoc is the part of the BOM the structural tests look at.
type cdxDoc struct {
	SerialNumber string `json:"serialNumber"`
	Version      int    `json:"version"`
	Metadata     struct {
		Timestamp string `json:"timestamp"`
		Tools     struct {
			Components []cdxComponent `json:"components"`
		} `json:"tools"`
	} `json:"metadata"`
	Services     []cdxService    `json:"services"`
	Dependencies []cdxDependency `json:"dependencies"`
}

func cdxDecode(t *testing.T, b []byte) cdxDoc {
	t.Helper()
	var d cdxDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d cdxDoc) service(ref string) *cdxService {
	for i := range d.Services {
		if d.Services[i].BOMRef == ref {
			return &d.Services[i]
		}
	}
	return nil
}

func (s *cdxService) prop(name string) []string {
	var out []string
	for _, p := range s.Properties {
		if p.Name == name {
			out = append(out, p.Value)
		}
	}
	return out
}

func TestCycloneDXStructure(t *testing.T) {
	inv := cdxTestInventory()
	d := cdxDecode(t, cdxWrite(t, inv, cdxTestOptions))

	if d.Version != 1 || d.Metadata.Timestamp != "2025-07-01T07:30:00Z" {
		t.Errorf("version %d, timestamp %q", d.Version, d.Metadata.Timestamp)
	}
	if want := []cdxComponent{{Type: "application", Name: "weaklink", Version: "0.9.0"}}; !reflect.DeepEqual(d.Metadata.Tools.Components, want) {
		t.Errorf("tools = %+v", d.Metadata.Tools.Components)
	}
	var refs []string
	for _, s := range d.Services {
		refs = append(refs, s.BOMRef)
	}
	wantRefs := []string{"vendor:aws", "vendor:mixpanel", "vendor:openai", "vendor:sentry", "vendor:stripe",
		"system:checkout-api", "system:support-bot", "system:web-app"}
	if !reflect.DeepEqual(refs, wantRefs) {
		t.Errorf("services = %v, want %v", refs, wantRefs)
	}

	stripe := d.service("vendor:stripe")
	if stripe.Provider == nil || stripe.Provider.Name != "Stripe, Inc." || !reflect.DeepEqual(stripe.Provider.URL, []string{"https://stripe.com"}) {
		t.Errorf("stripe provider = %+v", stripe.Provider)
	}
	if !reflect.DeepEqual(stripe.Endpoints, []string{"https://api.stripe.com", "https://stripe.com"}) {
		t.Errorf("stripe endpoints = %v", stripe.Endpoints)
	}
	if stripe.TrustZone != "third-party" || stripe.TrustBoundary == nil || !*stripe.TrustBoundary {
		t.Errorf("stripe trust zone %q, boundary %v", stripe.TrustZone, stripe.TrustBoundary)
	}
	for name, want := range map[string][]string{
		"weaklink:category": {"payments"}, "weaklink:status": {"active"}, "weaklink:criticality": {"critical"},
		"weaklink:owner": {"finance@acme.example"}, "weaklink:tag": {"pci", "tier-1"}, "weaklink:subprocessor": {"aws"},
		"weaklink:catalog": {"stripe"}, "weaklink:flow:checkout-api.stripe:purpose": {"billing"},
		"weaklink:flow:checkout-api.stripe:legal_basis":        {"contract"},
		"weaklink:flow:checkout-api.stripe:subject":            {"customer"},
		"weaklink:flow:checkout-api.stripe:estimated_subjects": {"250000"},
	} {
		if got := stripe.prop(name); !reflect.DeepEqual(got, want) {
			t.Errorf("stripe property %s = %q, want %q", name, got, want)
		}
	}
	// One inbound entry per (flow, category), sourced from the system by BOM-Link.
	link := "urn:cdx:" + strings.TrimPrefix(d.SerialNumber, "urn:uuid:") + "/1#"
	var classes []string
	for _, e := range stripe.Data {
		classes = append(classes, e.Classification)
		if e.Flow != "inbound" || e.Name != "checkout-api.stripe" || !reflect.DeepEqual(e.Source, []string{link + "system:checkout-api"}) {
			t.Errorf("stripe data entry %+v", e)
		}
	}
	if want := []string{"user.contact.address", "user.contact.email", "user.financial.credit_card", "user.name"}; !reflect.DeepEqual(classes, want) {
		t.Errorf("stripe classifications = %v, want %v", classes, want)
	}

	checkout := d.service("system:checkout-api")
	if checkout.TrustZone != "internal" || checkout.TrustBoundary != nil {
		t.Errorf("checkout trust zone %q, boundary %v", checkout.TrustZone, checkout.TrustBoundary)
	}
	if want := []cdxExtRef{{URL: "https://github.com/acme/checkout", Type: "vcs"}}; !reflect.DeepEqual(checkout.ExternalReferences, want) {
		t.Errorf("checkout external references = %+v", checkout.ExternalReferences)
	}
	if n := len(checkout.Data); n != 7 {
		t.Errorf("checkout has %d data entries, want 4 + 3", n)
	}
	for _, e := range checkout.Data {
		if e.Flow != "outbound" || len(e.Destination) != 1 || !strings.HasPrefix(e.Destination[0], link+"vendor:") {
			t.Errorf("checkout data entry %+v", e)
		}
	}
	// A repository that is not a URL is a property only.
	if web := d.service("system:web-app"); web.ExternalReferences != nil || !reflect.DeepEqual(web.prop("weaklink:repository"), []string{"git@github.com:acme/web.git"}) {
		t.Errorf("web-app: %+v", web)
	}

	// Every BOM-Link resolves to a service of this BOM.
	for _, s := range d.Services {
		for _, e := range s.Data {
			for _, l := range append(slices.Clone(e.Source), e.Destination...) {
				ref, ok := strings.CutPrefix(l, link)
				if !ok || d.service(ref) == nil {
					t.Errorf("%s: link %q does not resolve", s.BOMRef, l)
				}
			}
		}
	}

	wantDeps := []cdxDependency{
		{Ref: "vendor:aws"},
		{Ref: "vendor:mixpanel"},
		{Ref: "vendor:openai"},
		{Ref: "vendor:sentry", DependsOn: []string{"vendor:aws"}},
		{Ref: "vendor:stripe", DependsOn: []string{"vendor:aws"}},
		{Ref: "system:checkout-api", DependsOn: []string{"vendor:sentry", "vendor:stripe"}},
		{Ref: "system:support-bot", DependsOn: []string{"vendor:openai"}},
		{Ref: "system:web-app", DependsOn: []string{"vendor:mixpanel", "vendor:sentry"}},
	}
	if !reflect.DeepEqual(d.Dependencies, wantDeps) {
		t.Errorf("dependencies = %+v\nwant %+v", d.Dependencies, wantDeps)
	}
	if got := d.service("vendor:sentry").prop("weaklink:subprocessor"); !reflect.DeepEqual(got, []string{"aws", "google-cloud"}) {
		t.Errorf("sentry subprocessors = %v", got)
	}
}

func TestCycloneDXStrict(t *testing.T) {
	classes := func(d cdxDoc, ref string) []string {
		var out []string
		for _, e := range d.service(ref).Data {
			out = append(out, e.Name+" "+e.Classification)
		}
		return out
	}
	loose := cdxDecode(t, cdxWrite(t, cdxTestInventory(), CycloneDXOptions{}))
	strict := cdxDecode(t, cdxWrite(t, cdxTestInventory(), CycloneDXOptions{Strict: true}))
	tests := []struct {
		ref          string
		loose, exact []string
	}{
		{"vendor:mixpanel",
			[]string{"web-app.mixpanel user.behavior.browsing_history", "web-app.mixpanel user.behavior.referrer",
				"web-app.mixpanel user.device.device_id", "web-app.mixpanel user.device.user_agent"},
			// referrer → user.behavior; user_agent → user.device; the rest are upstream keys.
			[]string{"web-app.mixpanel user.behavior", "web-app.mixpanel user.behavior.browsing_history",
				"web-app.mixpanel user.device", "web-app.mixpanel user.device.device_id"}},
		{"system:web-app",
			[]string{"web-app.mixpanel user.behavior.browsing_history", "web-app.mixpanel user.behavior.referrer",
				"web-app.mixpanel user.device.device_id", "web-app.mixpanel user.device.user_agent",
				"web-app.sentry user.device", "web-app.sentry user.device.user_agent"},
			// user.device.user_agent and user.device collapse into one entry.
			[]string{"web-app.mixpanel user.behavior", "web-app.mixpanel user.behavior.browsing_history",
				"web-app.mixpanel user.device", "web-app.mixpanel user.device.device_id",
				"web-app.sentry user.device"}},
	}
	for _, tt := range tests {
		if got := classes(loose, tt.ref); !reflect.DeepEqual(got, tt.loose) {
			t.Errorf("%s default = %q\nwant %q", tt.ref, got, tt.loose)
		}
		if got := classes(strict, tt.ref); !reflect.DeepEqual(got, tt.exact) {
			t.Errorf("%s strict = %q\nwant %q", tt.ref, got, tt.exact)
		}
	}
	if loose.SerialNumber == strict.SerialNumber {
		t.Error("strict and default exports share a serial number")
	}
}

var cdxDerivedSerialRe = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCycloneDXSerialNumber(t *testing.T) {
	a := cdxDecode(t, cdxWrite(t, cdxTestInventory(), cdxTestOptions)).SerialNumber
	if !cdxDerivedSerialRe.MatchString(a) {
		t.Errorf("derived serial %q is not a version-5, RFC 4122 variant urn:uuid", a)
	}
	// The timestamp and tool version do not change it; the content does.
	if b := cdxDecode(t, cdxWrite(t, cdxTestInventory(), CycloneDXOptions{})).SerialNumber; b != a {
		t.Errorf("serial changed with the options only: %s, %s", a, b)
	}
	changed := cdxTestInventory()
	changed.Vendors[0].Criticality = "high"
	if c := cdxDecode(t, cdxWrite(t, changed, cdxTestOptions)).SerialNumber; c == a {
		t.Errorf("serial %s did not change with the content", c)
	}

	explicit := cdxDecode(t, cdxWrite(t, cdxTestInventory(), CycloneDXOptions{SerialNumber: "urn:uuid:3E671687-395B-41F5-A30F-A58921A69B79"}))
	if explicit.SerialNumber != "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" {
		t.Errorf("explicit serial = %q", explicit.SerialNumber)
	}
	for _, s := range explicit.Services {
		for _, e := range s.Data {
			for _, l := range append(slices.Clone(e.Source), e.Destination...) {
				if !strings.HasPrefix(l, "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#") {
					t.Errorf("link %q does not use the explicit serial", l)
				}
			}
		}
	}
	for _, bad := range []string{"3e671687-395b-41f5-a30f-a58921a69b79", "urn:uuid:nope", "urn:uuid:3e671687395b41f5a30fa58921a69b79"} {
		if err := WriteCycloneDX(&bytes.Buffer{}, Inventory{}, CycloneDXOptions{SerialNumber: bad}); err == nil {
			t.Errorf("serial %q accepted", bad)
		}
	}
}
