package catalog

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/taxonomy"
)

var (
	idRE     = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)
	labelRE  = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	envKeyRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
)

var categories = []string{
	"analytics", "session-replay", "error-tracking", "observability", "payments",
	"crm-marketing", "email-sms", "support", "identity", "cloud-infrastructure",
	"storage-cdn", "data-warehouse", "ai", "collaboration", "other",
}

// requiredIDs are vendors the catalog must always know.
var requiredIDs = []string{
	"mixpanel", "segment", "amplitude", "heap", "posthog", "google-analytics", "hotjar",
	"fullstory", "logrocket", "sentry", "datadog", "new-relic", "stripe", "braintree",
	"hubspot", "salesforce", "intercom", "zendesk", "twilio", "sendgrid", "mailchimp",
	"resend", "okta", "auth0", "aws", "gcp", "azure", "cloudflare", "snowflake", "openai",
	"anthropic", "slack",
}

// validHost reports whether h is a lowercase DNS hostname with at least two
// labels and nothing else: no scheme, port, path or wildcard.
func validHost(h string) bool {
	if h == "" || len(h) > 253 || h != strings.ToLower(h) {
		return false
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return false
		}
	}
	return true
}

func TestValidHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"mixpanel.com", true},
		{"api-js.mixpanel.com", true},
		{"2o7.net", true},
		{"localhost", false},
		{"Mixpanel.com", false},
		{"https://mixpanel.com", false},
		{"mixpanel.com/track", false},
		{"mixpanel.com:443", false},
		{"*.mixpanel.com", false},
		{"-api.mixpanel.com", false},
		{"api-.mixpanel.com", false},
		{"api..mixpanel.com", false},
		{"mixpanel.com.", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := validHost(tt.host); got != tt.want {
			t.Errorf("validHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if c == nil {
		t.Fatal("Default() = nil")
	}
	if c.Version != "2026.11.1" {
		t.Errorf("Version = %q, want 2026.11.1", c.Version)
	}
	if n := len(c.All()); n < 100 {
		t.Errorf("catalog has %d entries, want at least 100", n)
	}
	for _, id := range requiredIDs {
		if _, ok := c.Get(id); !ok {
			t.Errorf("required vendor %q is missing", id)
		}
	}
	for _, cat := range categories {
		n := 0
		for _, e := range c.All() {
			if e.Category == cat {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no vendor in category %q", cat)
		}
	}
	// Default parses once and hands out the same catalog.
	if Default() != c {
		t.Error("Default() returned a different catalog on the second call")
	}
}

func TestEntries(t *testing.T) {
	tax := taxonomy.Default()
	checks := []struct {
		name  string
		check func(t *testing.T, e Entry)
	}{
		{"id is a slug", func(t *testing.T, e Entry) {
			if !idRE.MatchString(e.ID) {
				t.Errorf("id %q is not a lowercase slug", e.ID)
			}
		}},
		{"name and description", func(t *testing.T, e Entry) {
			if strings.TrimSpace(e.Name) == "" {
				t.Error("name is empty")
			}
			if strings.TrimSpace(e.Description) == "" {
				t.Error("description is empty")
			}
		}},
		{"category", func(t *testing.T, e Entry) {
			if !slices.Contains(categories, e.Category) {
				t.Errorf("category %q is not one of %v", e.Category, categories)
			}
		}},
		{"website", func(t *testing.T, e Entry) {
			u, err := url.Parse(e.Website)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
				t.Errorf("website %q is not an https URL", e.Website)
			}
		}},
		{"domains and hosts", func(t *testing.T, e Entry) {
			if len(e.Domains) == 0 {
				t.Error("no domains")
			}
			for _, h := range append(slices.Clone(e.Domains), e.Hosts...) {
				if !validHost(h) {
					t.Errorf("%q is not a lowercase hostname", h)
				}
			}
		}},
		{"packages", func(t *testing.T, e Entry) {
			for eco, pkgs := range e.Packages {
				if !slices.Contains(Ecosystems, eco) {
					t.Errorf("unknown ecosystem %q", eco)
				}
				if len(pkgs) == 0 {
					t.Errorf("ecosystem %q lists no packages", eco)
				}
				for _, p := range pkgs {
					if p == "" || strings.TrimSpace(p) != p {
						t.Errorf("%s package %q is blank or padded", eco, p)
					}
					if eco == "maven" && strings.Count(p, ":") != 1 {
						t.Errorf("maven package %q is not groupId:artifactId", p)
					}
					if eco == "composer" && strings.Count(p, "/") != 1 {
						t.Errorf("composer package %q is not vendor/package", p)
					}
					if eco == "swiftpm" && !validHost(strings.SplitN(p, "/", 2)[0]) {
						t.Errorf("swiftpm package %q is not a repository path", p)
					}
				}
			}
		}},
		{"collects are taxonomy keys", func(t *testing.T, e Entry) {
			seen := map[string]bool{}
			for _, k := range e.Collects {
				if !tax.Has(k) {
					t.Errorf("collects %q is not in the taxonomy", k)
				}
				if seen[k] {
					t.Errorf("collects %q twice", k)
				}
				seen[k] = true
			}
		}},
		{"sdk calls", func(t *testing.T, e Entry) {
			for _, s := range e.SDKCalls {
				if s == "" || strings.ContainsAny(s, " \t()") {
					t.Errorf("sdk call %q is not a bare method name", s)
				}
			}
		}},
		{"env keys", func(t *testing.T, e Entry) {
			for _, k := range e.EnvKeys {
				if !envKeyRE.MatchString(k) {
					t.Errorf("env key %q is not an upper-case identifier", k)
				}
			}
		}},
	}
	for _, e := range Default().All() {
		t.Run(e.ID, func(t *testing.T) {
			for _, c := range checks {
				t.Run(c.name, func(t *testing.T) { c.check(t, e) })
			}
		})
	}
}

// TestUniqueClaims checks the embedded file directly, independently of the
// indexes Parse builds.
func TestUniqueClaims(t *testing.T) {
	c := Default()
	ids := map[string]bool{}
	hosts := map[string]string{}
	pkgs := map[string]string{}
	envs := map[string]string{}
	claim := func(kind string, m map[string]string, key, id string) {
		if prev, ok := m[key]; ok && prev != id {
			t.Errorf("%s %q claimed by %s and %s", kind, key, prev, id)
		}
		m[key] = id
	}
	for _, e := range c.All() {
		if ids[e.ID] {
			t.Errorf("duplicate id %q", e.ID)
		}
		ids[e.ID] = true
		for _, h := range append(slices.Clone(e.Domains), e.Hosts...) {
			claim("domain or host", hosts, h, e.ID)
		}
		for eco, ps := range e.Packages {
			for _, p := range ps {
				claim("package", pkgs, packageKey(eco, p), e.ID)
			}
		}
		for _, k := range e.EnvKeys {
			claim("env key", envs, k, e.ID)
		}
	}
	// Every listed domain and host resolves back to its own entry.
	for _, e := range c.All() {
		for _, h := range append(slices.Clone(e.Domains), e.Hosts...) {
			if got, ok := c.ByHost(h); !ok || got.ID != e.ID {
				t.Errorf("ByHost(%q) = %q, %v; want %q", h, got.ID, ok, e.ID)
			}
		}
	}
	if got := c.IDs(); !slices.IsSorted(got) || len(got) != len(c.All()) {
		t.Errorf("IDs() is not the sorted list of all %d ids", len(c.All()))
	}
}

func TestParse(t *testing.T) {
	const vendorA = `
  - id: a
    name: A
    category: analytics
    website: https://a.example
    domains: [a.example]
    packages: {npm: [shared-sdk], pypi: [Shared_SDK]}
    env_keys: [SHARED_KEY]
`
	tests := []struct {
		name    string
		doc     string
		wantErr string // substring; "" means the document is accepted
	}{
		{
			name: "valid",
			doc: "version: \"1\"\nvendors:" + vendorA + `
  - id: b
    name: B
    category: ai
    website: https://b.example
    domains: [b.example]
    hosts: [api.b.example, api.b.example]
`,
		},
		{name: "empty vendor list", doc: "version: \"1\"\nvendors: []\n"},
		{
			name: "duplicate package",
			doc: "vendors:" + vendorA + `
  - id: b
    name: B
    category: ai
    website: https://b.example
    domains: [b.example]
    packages: {npm: [Shared-SDK]}
`,
			wantErr: `npm package "Shared-SDK" claimed by a and b`,
		},
		{
			name: "duplicate pypi package after normalization",
			doc: "vendors:" + vendorA + `
  - id: b
    name: B
    category: ai
    website: https://b.example
    domains: [b.example]
    packages: {pypi: [shared.sdk]}
`,
			wantErr: "claimed by a and b",
		},
		{
			name: "same package in another ecosystem is fine",
			doc: "vendors:" + vendorA + `
  - id: b
    name: B
    category: ai
    website: https://b.example
    domains: [b.example]
    packages: {cargo: [shared-sdk]}
`,
		},
		{
			name: "duplicate domain",
			doc: "vendors:" + vendorA + `
  - id: b
    name: B
    category: ai
    website: https://b.example
    domains: [b.example, A.EXAMPLE]
`,
			wantErr: `domain "a.example" claimed by a and b`,
		},
		{
			name: "host claimed as another vendor's domain",
			doc: "vendors:" + vendorA + `
  - id: b
    name: B
    category: ai
    website: https://b.example
    domains: [b.example]
    hosts: [a.example]
`,
			wantErr: "claimed by a and b",
		},
		{
			name: "duplicate env key",
			doc: "vendors:" + vendorA + `
  - id: b
    name: B
    category: ai
    website: https://b.example
    domains: [b.example]
    env_keys: [shared_key]
`,
			wantErr: `env key "SHARED_KEY" claimed by a and b`,
		},
		{
			name:    "duplicate id",
			doc:     "vendors:" + vendorA + vendorA,
			wantErr: `duplicate vendor id "a"`,
		},
		{
			name: "missing id",
			doc: `vendors:
  - name: Nameless
    category: other
    website: https://n.example
    domains: [n.example]
`,
			wantErr: "has no id",
		},
		{
			name: "unknown vendor field",
			doc: `vendors:
  - id: a
    name: A
    category: analytics
    website: https://a.example
    domains: [a.example]
    homepage: https://a.example
`,
			wantErr: "field homepage not found",
		},
		{
			name:    "unknown top-level field",
			doc:     "version: \"1\"\nvendor: []\n",
			wantErr: "field vendor not found",
		},
		{name: "not yaml", doc: "vendors: [\n", wantErr: "catalog:"},
		{name: "wrong shape", doc: "vendors: {a: 1}\n", wantErr: "catalog:"},
		{name: "empty document", doc: "", wantErr: "catalog:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if c == nil {
					t.Fatal("Parse returned a nil catalog")
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted the document, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	c, err := Load(strings.NewReader(`version: "x"
vendors:
  - id: zeta
    name: Zeta
    category: other
    website: https://zeta.example
    domains: [zeta.example]
  - id: alpha
    name: Alpha
    category: other
    website: https://alpha.example
    domains: [alpha.example]
`))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Version != "x" {
		t.Errorf("Version = %q, want x", c.Version)
	}
	if got, want := c.IDs(), []string{"alpha", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("IDs() = %v, want %v", got, want)
	}
	if e, ok := c.Get("zeta"); !ok || e.Name != "Zeta" {
		t.Errorf("Get(zeta) = %+v, %v", e, ok)
	}
	if _, ok := c.Get("mixpanel"); ok {
		t.Error("a loaded catalog replaces the embedded one, but Get(mixpanel) found it")
	}
}

func TestByHost(t *testing.T) {
	tests := []struct {
		host string
		want string // "" means not found
	}{
		{"api-js.mixpanel.com", "mixpanel"},
		{"API-JS.Mixpanel.com.", "mixpanel"},
		{"cdn.mxpnl.com", "mixpanel"},
		{"o123.ingest.us.sentry.io", "sentry"},
		{"o4504.ingest.de.sentry.io", "sentry"},
		{"eu.i.posthog.com", "posthog"},
		{"us-assets.i.posthog.com", "posthog"},
		{"events.eu1.segmentapis.com", "segment"},
		{"api2.amplitude.com", "amplitude"},
		{"region1.google-analytics.com", "google-analytics"},
		{"analytics.google.com", "google-analytics"},
		{"www.googletagmanager.com", "google-analytics"},
		{"mail.google.com", "google-workspace"},
		{"generativelanguage.googleapis.com", "google-gemini"},
		{"fonts.googleapis.com", "google-fonts"},
		{"firestore.googleapis.com", "firebase"},
		{"storage.googleapis.com", "gcp"},
		{"r.lr-ingest.io", "logrocket"},
		{"rs.fullstory.com", "fullstory"},
		{"browser-intake-datadoghq.com", "datadog"},
		{"m.stripe.network", "stripe"},
		{"api-iam.intercom.io", "intercom"},
		{"track.hubspot.com", "hubspot"},
		{"email.us-east-1.amazonaws.com", "aws"},
		{"mybucket.s3.eu-west-1.amazonaws.com", "aws"},
		{"myaccount.blob.core.windows.net", "azure"},
		{"api.openai.com", "openai"},
		{"api.anthropic.com", "anthropic"},
		{"hooks.slack.com", "slack"},
		{"example.com", ""},
		{"com", ""},
		{"notmixpanel.com", ""},
		{"", ""},
	}
	c := Default()
	for _, tt := range tests {
		e, ok := c.ByHost(tt.host)
		if tt.want == "" {
			if ok {
				t.Errorf("ByHost(%q) = %q, want not found", tt.host, e.ID)
			}
			continue
		}
		if !ok || e.ID != tt.want {
			t.Errorf("ByHost(%q) = %q, %v; want %q", tt.host, e.ID, ok, tt.want)
		}
	}
}

func TestByPackage(t *testing.T) {
	tests := []struct {
		eco, name string
		want      string // "" means not found
	}{
		{"npm", "mixpanel-browser", "mixpanel"},
		{"npm", "@segment/analytics-next", "segment"},
		{"npm", "@sentry/nextjs", "sentry"},
		{"npm", "analytics", ""},
		{"npm", "react", ""},
		{"pypi", "mixpanel", "mixpanel"},
		{"pypi", "Sentry-SDK", "sentry"},
		{"pypi", "SENTRY_SDK", "sentry"},
		{"pypi", "segment.analytics.python", "segment"},
		{"pypi", "boto3", "aws"},
		{"pypi", "requests", ""},
		{"go", "github.com/getsentry/sentry-go", "sentry"},
		{"go", "github.com/getsentry/sentry-go/http", "sentry"},
		{"go", "github.com/stripe/stripe-go/v82", "stripe"},
		{"go", "github.com/stripe/stripe-go/v82/customer", "stripe"},
		{"go", "gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer", "datadog"},
		{"go", "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer", "datadog"},
		{"go", "github.com/aws/aws-sdk-go-v2/service/s3", "aws"},
		{"go", "cloud.google.com/go/bigquery", "gcp"},
		{"go", "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob", "azure"},
		{"go", "github.com/stripe", ""},
		{"go", "github.com/segmentio/kafka-go", ""},
		{"go", "v2", ""},
		{"maven", "com.stripe:stripe-java", "stripe"},
		{"maven", "io.sentry:sentry", "sentry"},
		{"rubygems", "stripe", "stripe"},
		{"nuget", "stripe.net", "stripe"},
		{"composer", "mixpanel/mixpanel-php", "mixpanel"},
		{"cocoapods", "Mixpanel-swift", "mixpanel"},
		{"swiftpm", "github.com/mixpanel/mixpanel-swift", "mixpanel"},
		{"cargo", "sentry", "sentry"},
		// The same name in another ecosystem is a different package.
		{"cargo", "stripe", ""},
		{"unknown", "stripe", ""},
	}
	c := Default()
	for _, tt := range tests {
		e, ok := c.ByPackage(tt.eco, tt.name)
		if tt.want == "" {
			if ok {
				t.Errorf("ByPackage(%q, %q) = %q, want not found", tt.eco, tt.name, e.ID)
			}
			continue
		}
		if !ok || e.ID != tt.want {
			t.Errorf("ByPackage(%q, %q) = %q, %v; want %q", tt.eco, tt.name, e.ID, ok, tt.want)
		}
	}
}

func TestTrimGoMajor(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"github.com/stripe/stripe-go/v82", "github.com/stripe/stripe-go", true},
		{"gopkg.in/datadog/dd-trace-go.v1", "gopkg.in/datadog/dd-trace-go", true},
		{"gopkg.in/yaml.v3", "gopkg.in/yaml", true},
		{"github.com/stripe/stripe-go", "", false},
		{"github.com/x/v", "", false},
		{"github.com/x/vendor", "", false},
		{"example.com/mod.v2", "", false},
		{"v2", "", false},
	}
	for _, tt := range tests {
		got, ok := trimGoMajor(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("trimGoMajor(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestByEnvKey(t *testing.T) {
	tests := []struct {
		key, want string
	}{
		{"SENTRY_DSN", "sentry"},
		{"sentry_dsn", "sentry"},
		{"MIXPANEL_TOKEN", "mixpanel"},
		{"SEGMENT_WRITE_KEY", "segment"},
		{"STRIPE_SECRET_KEY", "stripe"},
		{"OPENAI_API_KEY", "openai"},
		{"ANTHROPIC_API_KEY", "anthropic"},
		{"TWILIO_AUTH_TOKEN", "twilio"},
		{"SENDGRID_API_KEY", "sendgrid"},
		{"DD_API_KEY", "datadog"},
		{"NEW_RELIC_LICENSE_KEY", "new-relic"},
		{"AWS_ACCESS_KEY_ID", "aws"},
		{"DATABASE_URL", ""},
		{"", ""},
	}
	c := Default()
	for _, tt := range tests {
		e, ok := c.ByEnvKey(tt.key)
		if tt.want == "" {
			if ok {
				t.Errorf("ByEnvKey(%q) = %q, want not found", tt.key, e.ID)
			}
			continue
		}
		if !ok || e.ID != tt.want {
			t.Errorf("ByEnvKey(%q) = %q, %v; want %q", tt.key, e.ID, ok, tt.want)
		}
	}
}

func TestSearch(t *testing.T) {
	ids := func(es []Entry) []string {
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e.ID
		}
		return out
	}
	tests := []struct {
		query   string
		first   string   // expected first result, if set
		include []string // ids that must be among the results
		empty   bool
	}{
		{query: "mixpanel", first: "mixpanel"},
		{query: "MixPanel", first: "mixpanel"},
		{query: "sentry", first: "sentry"},
		{query: "stripe", first: "stripe"},
		{query: "new relic", first: "new-relic"},
		{query: "analytics", include: []string{"segment", "amplitude", "google-analytics", "mixpanel"}},
		{query: "session-replay", include: []string{"hotjar", "fullstory", "logrocket"}},
		{query: "mxpnl", first: "mixpanel"},
		{query: "nothing-like-this", empty: true},
		{query: "mixpanel nothing-like-this", empty: true},
	}
	c := Default()
	for _, tt := range tests {
		got := ids(c.Search(tt.query))
		if tt.empty {
			if len(got) != 0 {
				t.Errorf("Search(%q) = %v, want no results", tt.query, got)
			}
			continue
		}
		if len(got) == 0 {
			t.Errorf("Search(%q) returned nothing", tt.query)
			continue
		}
		if tt.first != "" && got[0] != tt.first {
			t.Errorf("Search(%q)[0] = %q, want %q (all: %v)", tt.query, got[0], tt.first, got)
		}
		for _, id := range tt.include {
			if !slices.Contains(got, id) {
				t.Errorf("Search(%q) = %v, want it to include %q", tt.query, got, id)
			}
		}
	}
	if n, all := len(c.Search("  ")), len(c.All()); n != all {
		t.Errorf("Search(blank) returned %d entries, want all %d", n, all)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(embedded)
	f.Add([]byte(""))
	f.Add([]byte("version: \"1\"\nvendors: []\n"))
	f.Add([]byte("vendors:\n  - id: a\n    name: A\n    domains: [a.example]\n    hosts: [x.a.example]\n" +
		"    packages: {npm: [a], pypi: [A_b], go: [example.com/a/v2]}\n    env_keys: [A_KEY]\n"))
	f.Add([]byte("vendors:\n  - id: a\n  - id: a\n"))
	f.Add([]byte("vendors:\n  - id: a\n    bogus: 1\n"))
	f.Add([]byte("vendors: [{id: a, packages: {npm: [x]}}, {id: b, packages: {npm: [X]}}]\n"))
	f.Add([]byte("vendors: &a [*a]\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a catalog with error %v", err)
			}
			return
		}
		// A parsed catalog must answer every lookup without panicking.
		for _, e := range c.All() {
			if got, ok := c.Get(e.ID); !ok || got.ID != e.ID {
				t.Fatalf("Get(%q) after Parse = %q, %v", e.ID, got.ID, ok)
			}
			for _, d := range e.Domains {
				c.ByHost(d)
			}
			for eco, pkgs := range e.Packages {
				for _, p := range pkgs {
					if _, ok := c.ByPackage(eco, p); !ok {
						t.Fatalf("ByPackage(%q, %q) not found after Parse", eco, p)
					}
				}
			}
			for _, k := range e.EnvKeys {
				c.ByEnvKey(k)
			}
		}
		c.IDs()
		q := string(b[:min(len(b), 64)])
		c.Search(q)
		c.ByHost(q)
		c.ByPackage("go", q)
		c.ByPackage("pypi", q)
	})
}
