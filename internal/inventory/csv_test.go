package inventory

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/textutil"
)

// csvTestCatalog is a small catalog of our own, so the tests do not depend on
// the embedded one.
func csvTestCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Parse([]byte(`version: test
vendors:
  - id: stripe
    name: Stripe
    legal_entity: Stripe, Inc.
    category: payments
    website: https://stripe.com
    domains: [stripe.com, stripe.network]
    hosts: [api.stripe.com]
  - id: sentry
    name: Sentry
    legal_entity: Functional Software, Inc.
    category: error-tracking
    website: https://sentry.io
    domains: [sentry.io]
  - id: mixpanel
    name: Mixpanel
    legal_entity: Mixpanel, Inc.
    category: analytics
    website: https://mixpanel.com
    domains: [mixpanel.com]
  - id: segment
    name: Segment
    legal_entity: Twilio Inc.
    category: analytics
    website: https://segment.com
    domains: [segment.com, segment.io]
  - id: aws
    name: Amazon Web Services
    legal_entity: Amazon Web Services, Inc.
    category: cloud-infrastructure
    website: https://aws.amazon.com
    domains: [amazonaws.com, aws.amazon.com]
  - id: intercom
    name: Intercom
    legal_entity: Intercom, Inc.
    category: support
    website: https://www.intercom.com
    domains: [intercom.io, intercom.com]
`))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// csvWantProblem is an expected problem; Message is a substring.
type csvWantProblem struct {
	Line, Row int
	Column    string
	Message   string
}

func csvCheckProblems(t *testing.T, got []CSVProblem, want []csvWantProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), csvProblemList(got))
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.Line || (w.Row != 0 && g.Row != w.Row) || g.Column != w.Column || !strings.Contains(g.Message, w.Message) {
			t.Errorf("problem %d = {line %d, row %d, column %q, %q}, want {line %d, row %d, column %q, …%q…}",
				i, g.Line, g.Row, g.Column, g.Message, w.Line, w.Row, w.Column, w.Message)
		}
	}
}

func csvProblemList(ps []CSVProblem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s (row %d)\n", p, p.Row)
	}
	return b.String()
}

func csvDiffVendors(t *testing.T, got, want []Vendor) {
	t.Helper()
	if len(got) != len(want) {
		ids := func(vs []Vendor) []string {
			var out []string
			for _, v := range vs {
				out = append(out, v.ID)
			}
			return out
		}
		t.Errorf("got %d vendors %v, want %d %v", len(got), ids(got), len(want), ids(want))
		return
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("vendor %d:\n got  %#v\n want %#v", i, got[i], want[i])
		}
	}
}

func TestReadVendorsCSVSpreadsheet(t *testing.T) {
	f, err := os.Open("testdata/csv/vendors.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, rep, err := ReadVendorsCSV(f, "vendors.csv", csvTestCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []Vendor{
		{ID: "stripe", Name: "Stripe", LegalEntity: "Stripe, Inc.", Website: "https://stripe.com",
			Domains: []string{"stripe.com", "stripe.network"}, Category: "payments", Owner: "Finance - Jane Doe",
			Status: "active", Criticality: "critical", Description: "Card payments for checkout", Catalog: "stripe"},
		{ID: "sentry", Name: "Sentry", LegalEntity: "Functional Software, Inc.", Website: "https://sentry.io",
			Domains: []string{"sentry.io"}, Category: "error-tracking", Owner: "Platform team", Status: "active",
			Criticality: "high", Description: "Error reports from web and mobile apps.\nMay include user email in breadcrumbs.",
			Catalog: "sentry"},
		// Matched by the host of its website, not its name.
		{ID: "mixpanel-inc", Name: "Mixpanel Inc.", LegalEntity: "Mixpanel, Inc.", Website: "https://www.mixpanel.com/",
			Domains: []string{"mixpanel.com"}, Category: "analytics", Owner: "Growth", Status: "active",
			Criticality: "medium", Description: "Funnels and retention", Catalog: "mixpanel"},
		{ID: "acme-payroll-services", Name: "ACME Payroll Services", Website: "https://acme-payroll.example",
			Domains: []string{"acme-payroll.example"}, Category: "other", Owner: "HR - Bob", Status: "approved",
			Criticality: "critical", Description: "Payroll provider for EU staff"},
		{ID: "twilio-sendgrid", Name: "Twilio SendGrid", Website: "https://sendgrid.com", Domains: []string{"sendgrid.com"},
			Category: "email-sms", Owner: "Marketing Ops", Status: "active", Criticality: "high", Description: "Transactional email"},
		{ID: "zendesk", Name: "Zendesk", Website: "https://www.zendesk.com", Domains: []string{"zendesk.com"},
			Category: "support", Owner: "Support - Carla", Status: "active", Criticality: "medium", Description: "Customer tickets"},
		{ID: "okta", Name: "Okta", Website: "https://okta.com", Domains: []string{"okta.com"}, Category: "identity",
			Owner: "IT", Status: "active", Criticality: "critical", Description: "Workforce SSO"},
		{ID: "datadog", Name: "Datadog", Website: "https://datadoghq.com", Domains: []string{"datadoghq.com"},
			Category: "observability", Owner: "SRE", Status: "active", Criticality: "high", Description: "Logs may contain PII"},
		{ID: "fullstory", Name: "FullStory", Website: "https://fullstory.com", Domains: []string{"fullstory.com"},
			Category: "session-replay", Owner: "Product", Status: "proposed", Criticality: "high",
			Description: "Evaluating for checkout funnel"},
		{ID: "snowflake", Name: "Snowflake", Website: "https://www.snowflake.com", Domains: []string{"snowflake.com"},
			Category: "data-warehouse", Owner: "Data team", Status: "active", Criticality: "critical",
			Description: "Analytics warehouse; holds a copy of prod customer data"},
		{ID: "openai", Name: "OpenAI", Website: "https://openai.com", Domains: []string{"openai.com"}, Category: "ai",
			Owner: "Engineering", Status: "proposed", Criticality: "high", Description: "Support reply drafts"},
		// Matched by name.
		{ID: "amazon-web-services", Name: "Amazon Web Services", LegalEntity: "Amazon Web Services, Inc.",
			Website: "https://aws.amazon.com", Domains: []string{"amazonaws.com", "aws.amazon.com"},
			Category: "cloud-infrastructure", Owner: "Infrastructure", Status: "active", Criticality: "critical",
			Description: "Primary hosting", Catalog: "aws"},
		{ID: "cloudflare", Name: "Cloudflare", Website: "https://cloudflare.com", Domains: []string{"cloudflare.com"},
			Category: "storage-cdn", Owner: "Infrastructure", Status: "active", Criticality: "high"},
		{ID: "notion", Name: "Notion", Website: "https://notion.so", Domains: []string{"notion.so"},
			Category: "collaboration", Owner: "Everyone", Status: "active", Criticality: "low", Description: "Internal wiki"},
		{ID: "hubspot", Name: "HubSpot", Website: "https://hubspot.com", Domains: []string{"hubspot.com"},
			Category: "crm-marketing", Owner: "Sales", Status: "offboarding", Criticality: "high",
			Description: "Replacing with Salesforce by Q3"},
		{ID: "legacy-analytics-co", Name: "Legacy Analytics Co", Website: "http://legacy-analytics.example",
			Domains: []string{"legacy-analytics.example"}, Category: "analytics", Owner: "Growth", Status: "offboarded",
			Criticality: "medium", Description: "Contract ended 2024. Data deletion confirmed."},
		// Bad website, unknown category, status and tier: kept, with problems.
		{ID: "calendly", Name: "Calendly", Category: "other", Owner: "Sales", Description: "Meeting booking"},
		// Formula-looking text in a spreadsheet the team wrote is data, kept as is.
		{ID: "societe-generale-securities", Name: "Société Générale Securities", Website: "https://www.societegenerale.com",
			Domains: []string{"societegenerale.com"}, Category: "payments", Owner: "Treasury", Status: "approved",
			Criticality: "high", Description: `=HYPERLINK("http://evil.example","click")`},
		{ID: "intercom", Name: "Intercom", LegalEntity: "Intercom, Inc.", Website: "https://www.intercom.com",
			Domains: []string{"intercom.com", "intercom.io"}, Category: "support", Owner: "Support", Status: "active",
			Criticality: "high", Description: "Chat widget on marketing site\nand in-app messenger.\nCollects visitor IDs.",
			Catalog: "intercom"},
		// No website: filled from the catalog, as is the category it did not recognise.
		{ID: "segment", Name: "Segment", LegalEntity: "Twilio Inc.", Website: "https://segment.com",
			Domains: []string{"segment.com", "segment.io"}, Category: "analytics", Owner: "Growth", Status: "active",
			Criticality: "high", Description: "CDP feeding warehouse and marketing tools", Catalog: "segment"},
		{ID: "pagerduty", Name: "PagerDuty", Website: "https://pagerduty.com", Domains: []string{"pagerduty.com"},
			Category: "observability", Owner: "SRE", Status: "active", Criticality: "medium", Description: "On-call paging"},
		{ID: "hotjar", Name: "Hotjar", Website: "https://hotjar.com", Domains: []string{"hotjar.com"},
			Category: "session-replay", Owner: "Product", Status: "offboarded", Criticality: "medium",
			Description: "Removed in 2023"},
	}
	csvDiffVendors(t, got, want)

	if rep.Rows != 24 || rep.Imported != 22 {
		t.Errorf("rows %d, imported %d; want 24, 22", rep.Rows, rep.Imported)
	}
	wantCols := map[string]string{
		"Vendor Name": "name", "Website": "website", "Service Type": "category", "Business Owner": "owner",
		"Risk Tier": "criticality", "Status": "status", "Notes": "description",
	}
	if !reflect.DeepEqual(rep.Columns, wantCols) {
		t.Errorf("columns = %v, want %v", rep.Columns, wantCols)
	}
	if want := []string{"Data Shared", "Contract End"}; !reflect.DeepEqual(rep.Unmapped, want) {
		t.Errorf("unmapped = %q, want %q", rep.Unmapped, want)
	}
	csvCheckProblems(t, rep.Problems, []csvWantProblem{
		{6, 5, "Service Type", `unknown category "Payroll"; using "other"`},
		{20, 19, "", "neither a vendor name nor an id"},
		{21, 20, "Vendor Name", `duplicate vendor id "stripe" (first on line 2)`},
		{22, 21, "Website", `"calendly com" is not a website`},
		{22, 21, "Service Type", `unknown category "Scheduling"; using "other"`},
		{22, 21, "Status", `unknown status "Maybe"; left empty`},
		{22, 21, "Risk Tier", `unknown criticality "Tier 5"`},
		{27, 24, "Service Type", `unknown category "Customer data platform"; using "analytics" from the catalog entry "segment"`},
	})
}

func TestReadVendorsCSVCases(t *testing.T) {
	cat := csvTestCatalog(t)
	tests := []struct {
		name     string
		in       string
		cat      *catalog.Catalog
		want     []Vendor
		unmapped []string
		problems []csvWantProblem
	}{
		{
			name: "semicolon separated with BOM and quoted headers",
			in:   "\ufeff\"Name\";\"Website\";\"Type\";\"Tier\"\nAcme, Inc.;acme.example;Payments;tier 4\n",
			want: []Vendor{{ID: "acme-inc", Name: "Acme, Inc.", Website: "https://acme.example",
				Domains: []string{"acme.example"}, Category: "payments", Criticality: "low"}},
		},
		{
			name: "tab separated with empty cells",
			in:   "Supplier\tDomain\tRisk\tStage\nGlobex\t\t\tEvaluating\nInitech\thttps://WWW.Initech.example:8443/login\tHigh\t\n",
			want: []Vendor{
				{ID: "globex", Name: "Globex", Status: "proposed"},
				{ID: "initech", Name: "Initech", Domains: []string{"initech.example"}, Criticality: "high"},
			},
		},
		{
			name: "weaklink's own export columns and synonyms",
			in: "Vendor ID,Company,Legal Name,Homepage,Domains,Category,Relationship Owner,Lifecycle,Criticality,Service Description,Labels,Sub-processors,Catalog\n" +
				"ACME,Acme,Acme GmbH,https://acme.example,\"acme.example, cdn.acme.example|https://api.acme.example/v1\",crm-marketing,Ann,Offboarded,Critical,CRM,\"eu; gdpr\nsoc2\",\"AWS Ireland, Stripe\",\n",
			want: []Vendor{{ID: "acme", Name: "Acme", LegalEntity: "Acme GmbH", Website: "https://acme.example",
				Domains:  []string{"acme.example", "api.acme.example", "cdn.acme.example"},
				Category: "crm-marketing", Owner: "Ann", Status: "offboarded", Criticality: "critical", Description: "CRM",
				Tags: []string{"eu", "gdpr", "soc2"}, Subprocessors: []string{"aws-ireland", "stripe"}}},
		},
		{
			name:     "fourth parties column, unmapped columns, blank rows",
			in:       "Name,Fourth Parties,Data Shared,,Cost\n,,,,\nFoo,Bar | Baz,emails,,100\n , , , , \n",
			want:     []Vendor{{ID: "foo", Name: "Foo", Subprocessors: []string{"bar", "baz"}}},
			unmapped: []string{"Data Shared", "Cost"},
		},
		{
			name: "id column wins over the name and is normalised",
			in:   "ID,Name\nMy Vendor,Some Name\nok-id,Other\n,Derived From Name\n",
			want: []Vendor{
				{ID: "my-vendor", Name: "Some Name"},
				{ID: "ok-id", Name: "Other"},
				{ID: "derived-from-name", Name: "Derived From Name"},
			},
			problems: []csvWantProblem{{2, 2, "ID", `id "My Vendor" is not a slug; using "my-vendor"`}},
		},
		{
			name: "id only: name falls back to the id",
			in:   "id\nfoo\n",
			want: []Vendor{{ID: "foo", Name: "foo"}},
		},
		{
			name: "catalog match by id fills empty fields only",
			in:   "Name,Category,Legal Entity\nStripe,,\nSentry,AI,Sentry Ltd\n",
			cat:  cat,
			want: []Vendor{
				{ID: "stripe", Name: "Stripe", LegalEntity: "Stripe, Inc.", Website: "https://stripe.com",
					Domains: []string{"stripe.com", "stripe.network"}, Category: "payments", Catalog: "stripe"},
				{ID: "sentry", Name: "Sentry", LegalEntity: "Sentry Ltd", Website: "https://sentry.io",
					Domains: []string{"sentry.io"}, Category: "ai", Catalog: "sentry"},
			},
		},
		{
			name: "catalog match by ingest host of a domain, and explicit catalog column",
			in:   "Name,Domains,Catalog\nPayments Co,api.stripe.com,\nTracker,,mixpanel\nUnknown,,nope\n",
			cat:  cat,
			want: []Vendor{
				{ID: "payments-co", Name: "Payments Co", LegalEntity: "Stripe, Inc.", Website: "https://stripe.com",
					Domains: []string{"api.stripe.com"}, Category: "payments", Catalog: "stripe"},
				{ID: "tracker", Name: "Tracker", LegalEntity: "Mixpanel, Inc.", Website: "https://mixpanel.com",
					Domains: []string{"mixpanel.com"}, Category: "analytics", Catalog: "mixpanel"},
				{ID: "unknown", Name: "Unknown"},
			},
			problems: []csvWantProblem{{4, 4, "Catalog", `unknown catalog vendor "nope"`}},
		},
		{
			name: "without a catalog the catalog column is kept as written",
			in:   "name,catalog\nFoo,foo-cat\n",
			want: []Vendor{{ID: "foo", Name: "Foo", Catalog: "foo-cat"}},
		},
		{
			name: "bad domains and unusable names",
			in:   "Name,Domain\nFoo,\"good.example, not a host, ftp://x.example/path, localhost\"\n東京,x.example\n---,\n",
			want: []Vendor{{ID: "foo", Name: "Foo", Domains: []string{"good.example", "x.example"}}},
			problems: []csvWantProblem{
				{2, 2, "Domain", `"not a host" is not a domain name`},
				{2, 2, "Domain", `"localhost" is not a domain name`},
				{3, 3, "Name", `cannot make an id from the name "東京"`},
				{4, 4, "Name", `cannot make an id from the name "---"`},
			},
		},
		{
			name: "duplicate ids after normalisation, and a second column for the same field",
			in:   "Name,Vendor,Notes,Description\nAcme Corp,x,a,b\nACME corp.,y,c,d\n",
			want: []Vendor{{ID: "acme-corp", Name: "Acme Corp", Description: "a"}},
			problems: []csvWantProblem{
				{1, 1, "Vendor", `also maps to name, already read from column "Name"`},
				{1, 1, "Description", `also maps to description, already read from column "Notes"`},
				{3, 3, "Name", `duplicate vendor id "acme-corp" (first on line 2)`},
			},
			unmapped: []string{"Vendor", "Description"},
		},
		{
			name: "problem lines follow multi-line cells",
			in:   "Name,Notes,Status\nA,\"one\ntwo\nthree\",Active\nB,\"x\ny\",Sometimes\n",
			want: []Vendor{
				{ID: "a", Name: "A", Description: "one\ntwo\nthree", Status: "active"},
				{ID: "b", Name: "B", Description: "x\ny"},
			},
			problems: []csvWantProblem{{6, 3, "Status", `unknown status "Sometimes"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rep, err := ReadVendorsCSV(strings.NewReader(tt.in), "in.csv", tt.cat)
			if err != nil {
				t.Fatal(err)
			}
			csvDiffVendors(t, got, tt.want)
			if rep.Imported != len(got) {
				t.Errorf("imported = %d, returned %d", rep.Imported, len(got))
			}
			if tt.unmapped == nil {
				tt.unmapped = []string{}
			}
			if !reflect.DeepEqual(rep.Unmapped, tt.unmapped) {
				t.Errorf("unmapped = %q, want %q", rep.Unmapped, tt.unmapped)
			}
			csvCheckProblems(t, rep.Problems, tt.problems)
		})
	}
}

func TestReadVendorsCSVErrors(t *testing.T) {
	big := strings.Repeat("x", MaxCSVFieldSize+1)
	var many strings.Builder
	many.WriteString("name\n")
	for i := range MaxCSVRows + 1 {
		fmt.Fprintf(&many, "v%d\n", i)
	}
	tests := []struct {
		name, in, want string
	}{
		{"bare quote", "Name,Notes\nA,ok\nB,say \"hi\"\n", `bad.csv:3:7: malformed CSV: bare "`},
		{"unterminated quote", "Name,Notes\nA,\"open\n", `bad.csv:2:9: malformed CSV: extraneous or missing "`},
		{"too many fields", "Name,Notes\nA,b\nC,d,e\n", "bad.csv:3: malformed CSV: wrong number of fields (the header has 2)"},
		{"too few fields", "Name,Notes\nA\n", "bad.csv:2: malformed CSV: wrong number of fields (the header has 2)"},
		{"no name or id column", "Website,Owner\nx.example,me\n", `bad.csv:1: no vendor name or id column`},
		{"empty", "", "bad.csv: empty file"},
		{"only a BOM", "\ufeff", "bad.csv: empty file"},
		{"huge field", "name,notes\nA," + big + "\n", `bad.csv:2: a field (column "notes") is larger than 64 KiB`},
		{"too many rows", many.String(), "bad.csv: more than 50000 rows; split the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, _, err := ReadVendorsCSV(strings.NewReader(tt.in), "bad.csv", nil)
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if vs != nil {
				t.Errorf("returned %d vendors with the error", len(vs))
			}
		})
	}
}

func TestCSVValueNormalization(t *testing.T) {
	categories := map[string]string{
		"Product Analytics": "analytics", "Error monitoring": "error-tracking", "Payments": "payments",
		"Payment processor": "payments", "CRM": "crm-marketing", "Email": "email-sms", "Cloud": "cloud-infrastructure",
		"IaaS": "cloud-infrastructure", "CDN": "storage-cdn", "Data warehouse": "data-warehouse", "AI": "ai",
		"LLM": "ai", "Support": "support", "Helpdesk": "support", "SSO": "identity", "Identity": "identity",
		"IdP": "identity", "Monitoring": "observability", "APM": "observability", "Logging": "observability",
		"Session replay": "session-replay", "Collaboration": "collaboration", "Productivity": "collaboration",
		"error-tracking": "error-tracking", "CRM / Marketing": "crm-marketing", "other": "other",
		"Cloud storage": "storage-cdn", "SMS": "email-sms", "Customer support, live chat": "support",
	}
	for in, want := range categories {
		if got, ok := csvCategory(in); got != want || !ok {
			t.Errorf("category %q = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"Payroll", "Legal services", "Aim", "Mailchimp-ish?"} {
		if got, ok := csvCategory(in); got != "other" || ok {
			t.Errorf("category %q = %q, %v; want other, false", in, got, ok)
		}
	}
	statuses := map[string]string{
		"Active": "active", "In use": "active", "LIVE": "active", "Approved": "approved", "Proposed": "proposed",
		"Under review": "proposed", "Evaluating": "proposed", "Pending": "proposed", "Offboarding": "offboarding",
		"Retired": "offboarded", "Terminated": "offboarded", "Offboarded": "offboarded",
		"Active (renewal due)": "active", "": "", "Not active": "", "Paused": "",
	}
	for in, want := range statuses {
		if got, _ := csvLookup(in, csvStatuses); got != want {
			t.Errorf("status %q = %q, want %q", in, got, want)
		}
	}
	criticalities := map[string]string{
		"low": "low", "Medium": "medium", "HIGH": "high", "critical": "critical", "tier 1": "critical",
		"Tier 2": "high", "Tier 3": "medium", "Tier 4": "low", "Tier1": "critical", "Tier 1 - Critical": "critical",
		"High risk": "high", "Tier 5": "", "1": "", "extreme": "",
	}
	for in, want := range criticalities {
		if got, _ := csvCriticality(in); got != want {
			t.Errorf("criticality %q = %q, want %q", in, got, want)
		}
	}
	slugs := map[string]string{
		"Stripe":                      "stripe",
		"  Acme, Inc.  ":              "acme-inc",
		"Société Générale":            "societe-generale",
		"AT&T":                        "at-t",
		"---":                         "",
		"東京":                          "",
		strings.Repeat("ab-", 40):     strings.Repeat("ab-", 21) + "a",
		"x" + strings.Repeat("y", 70): "x" + strings.Repeat("y", 63),
	}
	for in, want := range slugs {
		got := csvSlug(in)
		if got != want {
			t.Errorf("slug %q = %q, want %q", in, got, want)
		}
		if got != "" && !textutil.IsSlug(got) {
			t.Errorf("slug %q = %q is not a valid slug", in, got)
		}
	}
}

func TestCSVFormulaInjectionRoundTrip(t *testing.T) {
	vendors := []Vendor{{
		ID:          "evil",
		Name:        `=HYPERLINK("x")`,
		LegalEntity: "+1 Holdings",
		Owner:       "@ops",
		Description: "-2+3",
		Website:     "https://evil.example",
		Category:    "other",
		Status:      "active",
		Tags:        []string{"-pinned", "=tag"},
	}, {
		ID:          "quoted",
		Name:        "'=already quoted",
		Description: "\tindented",
		Owner:       "it's fine",
		Category:    "other",
	}}
	var buf bytes.Buffer
	if err := WriteVendorsCSV(&buf, vendors); err != nil {
		t.Fatal(err)
	}
	raw, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]string{}
	for i, h := range raw[0] {
		cells[h] = raw[1][i]
	}
	for col, want := range map[string]string{
		"name": `'=HYPERLINK("x")`, "legal_entity": "'+1 Holdings", "owner": "'@ops", "description": "'-2+3",
		"tags": "'-pinned; =tag", "id": "evil",
	} {
		if cells[col] != want {
			t.Errorf("raw %s cell = %q, want %q", col, cells[col], want)
		}
	}
	if got := raw[2][1]; got != "''=already quoted" {
		t.Errorf("raw name cell of a value starting with '= is %q, want %q", got, "''=already quoted")
	}
	if got := raw[2][9]; got != "'\tindented" {
		t.Errorf("raw description cell = %q, want %q", got, "'\tindented")
	}
	if got := raw[2][6]; got != "it's fine" {
		t.Errorf("raw owner cell = %q, want it untouched", got)
	}

	back, rep, err := ReadVendorsCSV(&buf, "export.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 {
		t.Errorf("problems: %v", rep.Problems)
	}
	if len(back) != 2 || back[0].Name != `=HYPERLINK("x")` {
		t.Fatalf("re-imported %#v", back)
	}
	csvDiffVendors(t, back, vendors)
}

func TestCSVEscapeCell(t *testing.T) {
	for _, s := range []string{"", "plain", "=1+1", "+", "-", "@", "\t", "\r", "'", "''", "'=", "''=x", "'a", "a=b", " =x"} {
		esc := csvEscapeCell(s)
		if got := csvUnescapeCell(esc); got != s {
			t.Errorf("unescape(escape(%q)) = %q (escaped %q)", s, got, esc)
		}
		if esc != "" && strings.ContainsRune("=+-@\t\r", rune(esc[0])) {
			t.Errorf("escape(%q) = %q still starts with a formula character", s, esc)
		}
	}
}

func TestVendorsCSVRoundTrip(t *testing.T) {
	vendors := []Vendor{
		{ID: "stripe", Name: "Stripe", LegalEntity: "Stripe, Inc.", Website: "https://stripe.com",
			Domains: []string{"stripe.com", "stripe.network"}, Category: "payments", Owner: "Finance",
			Status: "active", Criticality: "critical", Description: "Card payments.\nSecond line with \"quotes\", commas; and semicolons.",
			Tags: []string{"pci", "tier-1"}, Subprocessors: []string{"aws", "google-cloud"}, Catalog: "stripe"},
		{ID: "acme", Name: "Acme Corp — Europe", Category: "other", Status: "proposed"},
		{ID: "intercom", Name: "Intercom", Website: "https://www.intercom.com/", Domains: []string{"intercom.io"},
			Category: "support", Status: "offboarding", Criticality: "low", Owner: "Support <support@example.com>",
			Tags: []string{"customer data"}},
		{ID: "minimal", Name: "Minimal", Category: "ai"},
	}
	var buf bytes.Buffer
	if err := WriteVendorsCSV(&buf, vendors); err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(buf.String(), "\n")
	if want := "id,name,legal_entity,website,domains,category,owner,status,criticality,description,tags,subprocessors,catalog"; header != want {
		t.Errorf("header = %q, want %q", header, want)
	}
	back, rep, err := ReadVendorsCSV(&buf, "export.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || len(rep.Unmapped) != 0 || len(rep.Columns) != 13 {
		t.Errorf("report: %+v", rep)
	}
	csvDiffVendors(t, back, vendors)
}

func TestWriteSystemsCSV(t *testing.T) {
	var buf bytes.Buffer
	err := WriteSystemsCSV(&buf, []System{
		{ID: "checkout", Name: "Checkout API", Description: "Takes payments", Owner: "@payments-team",
			Environment: "production", Repository: "https://github.com/acme/checkout", Tags: []string{"pci", "tier-1"}},
		{ID: "web", Name: "Web app", Environment: "staging"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "id,name,description,owner,environment,repository,tags\n" +
		"checkout,Checkout API,Takes payments,'@payments-team,production,https://github.com/acme/checkout,pci; tier-1\n" +
		"web,Web app,,,staging,,\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestWriteFlowsCSV(t *testing.T) {
	first := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	last := time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC)
	var buf bytes.Buffer
	err := WriteFlowsCSV(&buf, []Flow{
		{ID: "checkout.stripe", System: "checkout", Vendor: "stripe",
			Categories: []string{"user.contact.email", "user.financial"}, Subjects: []string{"customer"},
			Purpose: "billing", LegalBasis: "contract", EstimatedSubjects: 120000, Source: "observed",
			Evidence:  []Evidence{{Kind: "traffic", Ref: "gateway"}},
			FirstSeen: &first, LastSeen: &last, Description: "Card, \"billing\" email"},
		{ID: "web.sentry", System: "web", Vendor: "sentry", Categories: []string{"user.device"},
			Purpose: "operations", Source: "declared"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "id,system,vendor,categories,subjects,purpose,legal_basis,estimated_subjects,source,first_seen,last_seen,description\n" +
		"checkout.stripe,checkout,stripe,user.contact.email; user.financial,customer,billing,contract,120000,observed," +
		"2025-03-01T09:00:00Z,2025-06-30T23:59:59Z,\"Card, \"\"billing\"\" email\"\n" +
		"web.sentry,web,sentry,user.device,,operations,,,declared,,,\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// FuzzReadVendorsCSV: the importer never panics; what it returns has valid,
// unique ids; and exporting what it returned and importing that again gives
// the same vendors.
func FuzzReadVendorsCSV(f *testing.F) {
	if b, err := os.ReadFile("testdata/csv/vendors.csv"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"\ufeffname\nfoo\n",
		"id;name;domains\nA;B;https://x.example:80/p\n",
		"Vendor\tTier\tStatus\n=cmd\tTier 1\tIn use\n",
		"name,notes\n\"a\",\"b\nc\"\n",
		"name,catalog,website,domains\nx,stripe,api.stripe.com,\"[::1], 10.0.0.1, www.co\"\n",
		"ID,Name,Sub-processors\n''=x,'@y,\"a|b|;,\"\n",
		"name\n\"unterminated\n",
	} {
		f.Add([]byte(s))
	}
	cat := csvTestCatalog(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, rep, err := ReadVendorsCSV(bytes.NewReader(data), "fuzz.csv", cat)
		if err != nil {
			if vs != nil {
				t.Fatalf("error %v with %d vendors", err, len(vs))
			}
			return
		}
		if rep.Imported != len(vs) || rep.Rows < len(vs) {
			t.Fatalf("report rows %d imported %d, returned %d", rep.Rows, rep.Imported, len(vs))
		}
		seen := map[string]bool{}
		for _, v := range vs {
			if !textutil.IsSlug(v.ID) {
				t.Fatalf("id %q is not a valid slug", v.ID)
			}
			if seen[v.ID] {
				t.Fatalf("duplicate id %q", v.ID)
			}
			seen[v.ID] = true
		}
		var buf bytes.Buffer
		if err := WriteVendorsCSV(&buf, vs); err != nil {
			t.Fatal(err)
		}
		back, _, err := ReadVendorsCSV(&buf, "again.csv", cat)
		if err != nil {
			t.Fatalf("re-import of the export: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(back, vs) {
			t.Fatalf("export → import changed the vendors:\n got  %#v\n want %#v", back, vs)
		}
	})
}
