package discover

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// hostileSnippet is a line from a scanned file written to break reports:
// table pipes, backticks, HTML, a terminal escape, a newline and invalid
// UTF-8.
const hostileSnippet = "<script src=\"https://cdn.quickverify.io/v1.js\">|`qv`|</script>\x1b[31mRED\x1b[0m\nqv.init({phone}) \xff\xfe end"

// hostileDetail ends up in a drift message, which the table prints: an OSC
// title escape, a colour escape, a bidi override and HTML.
const hostileDetail = "\x1b]0;pwned\x07qv.init\x1b[31m\u202e<script>alert(1)</script>|`x`"

// formatTestReport is a hand-built report: three vendors (one not in the
// catalog), findings of several kinds, and drift of every kind with one item
// baselined.
func formatTestReport() *Report {
	findings := []Finding{
		{Vendor: "domain:quickverify.io", Kind: KindSnippet,
			Evidence:   Evidence{File: "web/templates/sign up.html", Line: 41, Snippet: hostileSnippet},
			Categories: []Category{{Key: "user.contact.phone", Confidence: 0.6}},
			System:     "web", Detail: "cdn.quickverify.io"},
		{Vendor: "domain:quickverify.io", Kind: KindTraffic,
			Evidence:   Evidence{File: "captures/signup.har"},
			Categories: []Category{{Key: "user.contact.phone", Confidence: 0.95, Element: "phone"}},
			System:     "web", Detail: "POST api.quickverify.io/v1/verify"},
		{Vendor: "posthog", VendorName: "PostHog", Kind: KindDependency,
			Evidence: Evidence{File: "web/package.json", Line: 14, Snippet: `"posthog-js": "^1.160.0",`},
			System:   "web", Detail: "posthog-js"},
		{Vendor: "posthog", VendorName: "PostHog", Kind: KindSDKInit,
			Evidence: Evidence{File: "web/src/analytics.ts", Line: 3, Snippet: "posthog.init(POSTHOG_KEY, { api_host: 'https://eu.posthog.com' })"},
			System:   "web", Detail: "posthog.init"},
		{Vendor: "posthog", VendorName: "PostHog", Kind: KindDataSend,
			Evidence: Evidence{File: "web/src/analytics.ts", Line: 18, Snippet: "posthog.identify(user.id, { email: user.email })"},
			Categories: []Category{
				{Key: "user.contact.email", Confidence: 0.9, Element: "user.email"},
				{Key: "user.identifier", Confidence: 0.8, Element: "user.id"},
			},
			System: "web", Detail: "posthog.identify"},
		{Vendor: "sentry", VendorName: "Sentry", Kind: KindConfigKey,
			Evidence: Evidence{File: "api/.env.example", Line: 2, Snippet: "SENTRY_DSN="},
			System:   "api", Detail: "SENTRY_DSN"},
		{Vendor: "sentry", VendorName: "Sentry", Kind: KindEndpoint,
			Evidence: Evidence{File: "api/config/app settings.yaml", Line: 7, Snippet: "dsn: https://abc@o123.ingest.sentry.io/42"},
			System:   "api", Detail: "o123.ingest.sentry.io"},
	}
	return &Report{
		Roots: []string{"."},
		Stats: Stats{Files: 128, Skipped: 9, Bytes: 1 << 20, Captures: 1, Duration: 1500 * time.Millisecond},
		Vendors: []VendorSummary{
			{Vendor: "domain:quickverify.io", Known: false, Kinds: []Kind{KindSnippet, KindTraffic}, Systems: []string{"web"},
				Categories: []Category{{Key: "user.contact.phone", Confidence: 0.95, Element: "phone"}},
				Findings:   2, Evidence: findings[0].Evidence},
			{Vendor: "posthog", Name: "PostHog", Known: true, Kinds: []Kind{KindDependency, KindSDKInit, KindDataSend}, Systems: []string{"web"},
				Categories: []Category{{Key: "user.contact.email", Confidence: 0.9, Element: "user.email"}, {Key: "user.identifier", Confidence: 0.8, Element: "user.id"}},
				Findings:   3, Evidence: findings[2].Evidence},
			{Vendor: "sentry", Name: "Sentry", Known: true, Kinds: []Kind{KindEndpoint, KindConfigKey}, Systems: []string{"api"},
				Findings: 2, Evidence: findings[5].Evidence},
		},
		Findings: findings,
		Drift: &Drift{Items: []DriftItem{
			{Kind: DriftNewVendor, Vendor: "domain:quickverify.io", System: "web",
				Message:  "new vendor domain:quickverify.io (not in catalog), loaded by " + hostileDetail + ": add it to the inventory or to the baseline",
				Evidence: []Evidence{findings[0].Evidence, findings[1].Evidence}},
			{Kind: DriftUnapproved, Vendor: "sentry", System: "api",
				Message:  "vendor sentry (Sentry) is in the inventory but not approved: approve it or remove its use",
				Evidence: []Evidence{findings[5].Evidence, findings[6].Evidence}},
			{Kind: DriftNewCategory, Vendor: "posthog", System: "web", Category: "user.contact.email",
				Message:   "web sends user.contact.email to posthog (PostHog), which no flow declares: declare the flow or stop sending it",
				Evidence:  []Evidence{findings[4].Evidence},
				Baselined: true},
			{Kind: DriftNewCategory, Vendor: "posthog", System: "web", Category: "user.identifier",
				Message:  "web sends user.identifier to posthog (PostHog), which no flow declares: declare the flow or stop sending it",
				Evidence: []Evidence{findings[4].Evidence}},
			{Kind: DriftNoEvidence, Vendor: "mailchimp", System: "web", Category: "user.contact.email", Flow: "newsletter-signup",
				Message: "declared flow newsletter-signup (web to mailchimp, user.contact.email) has no evidence: check that it still exists"},
		}},
	}
}

// checkGolden compares got with testdata/golden/name, or rewrites it with
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func writeReport(t *testing.T, format string, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteReport(&buf, format, r, "1.4.0"); err != nil {
		t.Fatalf("WriteReport(%s): %v", format, err)
	}
	return buf.Bytes()
}

func TestFormatGolden(t *testing.T) {
	ext := map[string]string{"table": "txt", "json": "json", "markdown": "md", "sarif": "sarif"}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			got := writeReport(t, format, formatTestReport())
			checkGolden(t, "report."+ext[format], got)

			// Without drift (a plain discovery run).
			r := formatTestReport()
			r.Drift = nil
			checkGolden(t, "report-nodrift."+ext[format], writeReport(t, format, r))
		})
	}
}

func TestFormatDeterministic(t *testing.T) {
	for _, format := range Formats {
		a := writeReport(t, format, formatTestReport())
		b := writeReport(t, format, formatTestReport())
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs on the same report differ", format)
		}
	}
}

func TestFormatUnknown(t *testing.T) {
	var buf bytes.Buffer
	err := WriteReport(&buf, "xml", formatTestReport(), "1")
	if err == nil || !strings.Contains(err.Error(), `"xml"`) || !strings.Contains(err.Error(), "sarif") {
		t.Fatalf("err = %v, want unknown format naming the choices", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q on error", buf.String())
	}
	if err := WriteReport(&buf, "table", nil, "1"); err == nil {
		t.Error("nil report: no error")
	}
}

func TestFormatEmptyReport(t *testing.T) {
	for _, format := range Formats {
		got := writeReport(t, format, &Report{})
		if len(got) == 0 {
			t.Errorf("%s: empty output", format)
		}
	}
	var js map[string]any
	if err := json.Unmarshal(writeReport(t, "json", &Report{Drift: &Drift{}}), &js); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"roots", "vendors", "findings"} {
		if _, ok := js[k].([]any); !ok {
			t.Errorf("json %s = %#v, want []", k, js[k])
		}
	}
	if items, ok := js["drift"].(map[string]any)["items"].([]any); !ok || len(items) != 0 {
		t.Errorf("json drift.items = %#v, want []", js["drift"])
	}
	table := string(writeReport(t, "table", &Report{Drift: &Drift{}}))
	for _, want := range []string{"No vendors found.", "Drift: none", "0 files scanned"} {
		if !strings.Contains(table, want) {
			t.Errorf("empty table lacks %q:\n%s", want, table)
		}
	}
}

func TestFormatTableSafe(t *testing.T) {
	out := writeReport(t, "table", formatTestReport())
	if i := bytes.IndexByte(out, 0x1b); i >= 0 {
		t.Fatalf("table has an ESC byte at %d:\n%q", i, out)
	}
	if !utf8.Valid(out) {
		t.Error("table is not valid UTF-8")
	}
	for i, r := range string(out) {
		if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidiControl(r)) {
			t.Errorf("table has control character %U at %d", r, i)
		}
	}
	s := string(out)
	for _, want := range []string{
		"domain:quickverify.io", "(not in catalog)", "user.contact.email (0.9), user.identifier (0.8)",
		"web/templates/sign up.html:41", "[baselined]", "128 files scanned, 9 skipped",
		"7 findings, 3 vendors (1 not in catalog)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	// The OSC title sequence is dropped whole, not shown as text.
	if strings.Contains(s, "pwned") || strings.Contains(s, "[31m") {
		t.Errorf("table shows escape sequence remains:\n%s", s)
	}
	// Exactly one line per drift item, the baselined one marked.
	var driftLines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "  ") {
			driftLines = append(driftLines, l)
		}
	}
	if len(driftLines) != 5 {
		t.Fatalf("drift lines = %d, want 5:\n%s", len(driftLines), s)
	}
	if !strings.HasSuffix(driftLines[2], "[baselined]") || strings.Contains(driftLines[3], "[baselined]") {
		t.Errorf("baselined marker on the wrong line:\n%s", strings.Join(driftLines, "\n"))
	}
	if !strings.HasPrefix(driftLines[0], "  web/templates/sign up.html:41 (+1 more): new vendor") {
		t.Errorf("drift line 0 = %q", driftLines[0])
	}
}

func TestFormatMarkdownSafe(t *testing.T) {
	out := string(writeReport(t, "markdown", formatTestReport()))
	if strings.Contains(strings.ToLower(out), "<script") {
		t.Errorf("markdown has a raw <script>:\n%s", out)
	}
	if strings.ContainsRune(out, 0x1b) || !utf8.ValidString(out) {
		t.Error("markdown has an ESC byte or invalid UTF-8")
	}
	// The only HTML is our own code elements.
	tags := regexp.MustCompile(`<[^>]*>`).FindAllString(out, -1)
	for _, tag := range tags {
		if tag != "<code>" && tag != "</code>" {
			t.Errorf("markdown has HTML tag %q", tag)
		}
	}
	// Every table row has as many cells as its header: no cell text splits a
	// row or starts a new one.
	cells := func(line string) int {
		n := 0
		for i := 0; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '|':
				n++
			}
		}
		return n
	}
	want := 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = 0
			continue
		}
		if want == 0 {
			want = cells(line)
			continue
		}
		if got := cells(line); got != want {
			t.Errorf("row has %d separators, header %d: %s", got, want, line)
		}
	}
	// Backticks in text are escaped, so no code span opens by accident.
	if regexp.MustCompile("(^|[^\\\\])`").MatchString(out) {
		t.Errorf("markdown has an unescaped backtick:\n%s", out)
	}
	for _, want := range []string{
		"# Vendor discovery", "## Vendors", "## Drift", "## Findings",
		"&lt;script src=", `\|\` + "`qv\\`" + `\|`, "<code>web/templates/sign up.html:41</code>",
		"- Baselined new-category:", "- **Blocking** new-vendor:", "- Info no-evidence:",
		"user.contact.email (0.9)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestFormatJSONRoundTrip(t *testing.T) {
	out := writeReport(t, "json", formatTestReport())
	if !bytes.HasSuffix(out, []byte("}\n")) {
		t.Error("json does not end with a newline")
	}
	var back Report
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	orig := formatTestReport()
	if len(back.Findings) != len(orig.Findings) || len(back.Vendors) != 3 || back.Drift == nil || len(back.Drift.Items) != 5 {
		t.Fatalf("round trip lost data: %+v", back)
	}
	if back.Stats != orig.Stats {
		t.Errorf("stats = %+v, want %+v", back.Stats, orig.Stats)
	}
	if !back.Drift.Items[2].Baselined {
		t.Error("baselined flag lost")
	}
	if bytes.Contains(out, []byte("<script")) {
		t.Error("json has a raw <script")
	}
}

func TestFormatSanitize(t *testing.T) {
	for _, tc := range []struct{ in, oneLine, multi string }{
		{"plain", "plain", "plain"},
		{"a\x1b[31mred\x1b[0m", "ared", "ared"},
		{"a\x1b[1;2;3Hb", "ab", "ab"},
		{"\x1b]0;title\x07after", "after", "after"},
		{"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link", "link"},
		{"\x1b]unterminated", "unterminated", "unterminated"},
		{"\x1b(Bx", "x", "x"},
		{"\x1bcx", "x", "x"},
		{"esc at end\x1b", "esc at end", "esc at end"},
		{"a\x00b\x07c\x7fd", "a\ufffdb\ufffdc\ufffdd", "a\ufffdb\ufffdc\ufffdd"},
		{"c1 \u009b31m", "c1 \ufffd31m", "c1 \ufffd31m"},
		{"bad \xff\xfe utf8", "bad \ufffd\ufffd utf8", "bad \ufffd\ufffd utf8"},
		{"line1\r\nline2\n\tx", "line1 line2 x", "line1\nline2\n\tx"},
		{"  many   spaces ", "many spaces", "  many   spaces "},
		{"rtl \u202eevil\u202c \u2066x\u2069", "rtl \ufffdevil\ufffd \ufffdx\ufffd", "rtl \ufffdevil\ufffd \ufffdx\ufffd"},
		{"ünïcödé 日本", "ünïcödé 日本", "ünïcödé 日本"},
	} {
		if got := printable(tc.in, true); got != tc.oneLine {
			t.Errorf("printable(%q, true) = %q, want %q", tc.in, got, tc.oneLine)
		}
		if got := printable(tc.in, false); got != tc.multi {
			t.Errorf("printable(%q, false) = %q, want %q", tc.in, got, tc.multi)
		}
	}
	if got := tableCell(strings.Repeat("x", 100), 10); got != "xxxxxxxxx…" {
		t.Errorf("tableCell truncation = %q", got)
	}
	if got := tableCell(" \x1b[0m ", 10); got != "-" {
		t.Errorf("tableCell(empty) = %q, want -", got)
	}
	if got := mdCode("a`b|c<d>&e*_[x]~\\", 0); got != "<code>a\\`b\\|c&lt;d&gt;&amp;e\\*\\_\\[x\\]\\~\\\\</code>" {
		t.Errorf("mdCode = %q", got)
	}
	if got := mdCode("", 0); got != "" {
		t.Errorf("mdCode(\"\") = %q", got)
	}
	for in, want := range map[float64]string{0.9: "0.9", 0.85: "0.85", 1: "1", 0.333333: "0.33", 0: "0"} {
		if got := confidence(in); got != want {
			t.Errorf("confidence(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestSARIFURI(t *testing.T) {
	for _, tc := range []struct{ in, uri, base string }{
		{"web/src/app.ts", "web/src/app.ts", "%SRCROOT%"},
		{"./web/app.ts", "web/app.ts", "%SRCROOT%"},
		{"api/config/app settings.yaml", "api/config/app%20settings.yaml", "%SRCROOT%"},
		{"a/50%/b#c?d.js", "a/50%25/b%23c%3Fd.js", "%SRCROOT%"},
		{"c:weird.js", "c%3Aweird.js", "%SRCROOT%"},
		{"docs/ünï.md", "docs/%C3%BCn%C3%AF.md", "%SRCROOT%"},
		{"/abs/path/x y.go", "file:///abs/path/x%20y.go", ""},
	} {
		uri, base := sarifURI(tc.in)
		if uri != tc.uri || base != tc.base {
			t.Errorf("sarifURI(%q) = %q, %q; want %q, %q", tc.in, uri, base, tc.uri, tc.base)
		}
		u, err := url.Parse(uri)
		if err != nil {
			t.Errorf("sarifURI(%q) = %q: %v", tc.in, uri, err)
			continue
		}
		if (u.Scheme != "") != (tc.base == "") {
			t.Errorf("sarifURI(%q) = %q: scheme %q with base %q", tc.in, uri, u.Scheme, tc.base)
		}
		if p, _ := url.PathUnescape(u.EscapedPath()); tc.base != "" && p != strings.TrimPrefix(tc.in, "./") {
			t.Errorf("sarifURI(%q) decodes to %q", tc.in, p)
		}
	}
}

// The SARIF 2.1.0 schema cannot be fetched here, so the SARIF tests check
// what the schema and the specification require of the objects the report
// uses, and what GitHub code scanning relies on.

// sarifAllowed lists, per SARIF object, the properties the 2.1.0 schema
// defines (objects there have additionalProperties: false).
var sarifAllowed = map[string][]string{
	"sarifLog":                 {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
	"run":                      {"tool", "invocations", "conversion", "language", "versionControlProvenance", "originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results", "automationDetails", "runAggregates", "baselineGuid", "redactionTokens", "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind", "externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses", "translations", "policies", "webRequests", "webResponses", "specialLocations", "properties"},
	"tool":                     {"driver", "extensions", "properties"},
	"toolComponent":            {"guid", "name", "organization", "product", "productSuite", "shortDescription", "fullDescription", "fullName", "version", "semanticVersion", "dottedQuadFileVersion", "releaseDateUtc", "downloadUri", "informationUri", "globalMessageStrings", "notifications", "rules", "taxa", "locations", "language", "contents", "isComprehensive", "localizedDataSemanticVersion", "minimumRequiredLocalizedDataSemanticVersion", "associatedComponent", "translationMetadata", "supportedTaxonomies", "properties"},
	"reportingDescriptor":      {"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames", "shortDescription", "fullDescription", "messageStrings", "defaultConfiguration", "helpUri", "help", "relationships", "properties"},
	"multiformatMessageString": {"text", "markdown", "properties"},
	"reportingConfiguration":   {"enabled", "level", "rank", "parameters", "properties"},
	"result":                   {"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget", "locations", "guid", "correlationGuid", "occurrenceCount", "partialFingerprints", "fingerprints", "stacks", "codeFlows", "graphs", "graphTraversals", "relatedLocations", "suppressions", "baselineState", "rank", "attachments", "hostedViewerUri", "workItemUris", "provenance", "fixes", "taxa", "webRequest", "webResponse", "properties"},
	"message":                  {"text", "markdown", "id", "arguments", "properties"},
	"location":                 {"id", "physicalLocation", "logicalLocations", "message", "annotations", "relationships", "properties"},
	"physicalLocation":         {"address", "artifactLocation", "region", "contextRegion", "properties"},
	"artifactLocation":         {"uri", "uriBaseId", "index", "description", "properties"},
	"region":                   {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength", "byteOffset", "byteLength", "snippet", "message", "sourceLanguage", "properties"},
	"artifactContent":          {"text", "binary", "rendered", "properties"},
	"suppression":              {"guid", "kind", "status", "justification", "location", "properties"},
}

var sarifLevels = []string{"none", "note", "warning", "error"}

// sarifChecker checks a decoded SARIF log, reporting problems by JSON path.
type sarifChecker struct {
	t *testing.T
}

func (c sarifChecker) obj(v any, path, kind string) map[string]any {
	c.t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		c.t.Errorf("%s: want a %s object, got %T", path, kind, v)
		return nil
	}
	allowed, known := sarifAllowed[kind]
	if !known {
		c.t.Fatalf("checker: no property list for %s", kind)
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			c.t.Errorf("%s: property %q is not defined for %s", path, k, kind)
		}
	}
	return m
}

func (c sarifChecker) str(m map[string]any, key, path string, required bool) string {
	c.t.Helper()
	v, ok := m[key]
	if !ok {
		if required {
			c.t.Errorf("%s.%s: required", path, key)
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		c.t.Errorf("%s.%s: want a string, got %T", path, key, v)
		return ""
	}
	if required && s == "" {
		c.t.Errorf("%s.%s: empty", path, key)
	}
	return s
}

func (c sarifChecker) arr(m map[string]any, key, path string, required bool) []any {
	c.t.Helper()
	v, ok := m[key]
	if !ok {
		if required {
			c.t.Errorf("%s.%s: required", path, key)
		}
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		c.t.Errorf("%s.%s: want an array, got %T", path, key, v)
	}
	return a
}

// text checks a multiformatMessageString or message with required text.
func (c sarifChecker) text(v any, path, kind string) string {
	c.t.Helper()
	m := c.obj(v, path, kind)
	if m == nil {
		return ""
	}
	s := c.str(m, "text", path, true)
	if strings.TrimSpace(s) == "" {
		c.t.Errorf("%s.text: blank", path)
	}
	c.str(m, "markdown", path, false)
	return s
}

func (c sarifChecker) level(v any, path string) string {
	c.t.Helper()
	s, ok := v.(string)
	if !ok || !slices.Contains(sarifLevels, s) {
		c.t.Errorf("%s: level %v not one of %v", path, v, sarifLevels)
	}
	return s
}

// intAtLeast checks an integer-valued JSON number.
func (c sarifChecker) intAtLeast(v any, path string, lowest int) int {
	c.t.Helper()
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) || int(f) < lowest {
		c.t.Errorf("%s: want an integer ≥ %d, got %v", path, lowest, v)
		return 0
	}
	return int(f)
}

// checkedRun is what the checker learned about the one run.
type checkedRun struct {
	version string
	rules   []string
	results []map[string]any
}

// check validates log structurally and returns the run's rules and results.
func (c sarifChecker) check(raw []byte) checkedRun {
	c.t.Helper()
	var out checkedRun
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&v); err != nil {
		c.t.Fatalf("SARIF is not JSON: %v", err)
	}
	if dec.More() {
		c.t.Error("SARIF has data after the log object")
	}
	log := c.obj(v, "$", "sarifLog")
	if log == nil {
		return out
	}
	if s := c.str(log, "$schema", "$", true); s != "https://json.schemastore.org/sarif-2.1.0.json" {
		c.t.Errorf("$schema = %q", s)
	}
	if s := c.str(log, "version", "$", true); s != "2.1.0" {
		c.t.Errorf("version = %q, want 2.1.0", s)
	}
	runs := c.arr(log, "runs", "$", true)
	if len(runs) != 1 {
		c.t.Fatalf("runs: %d, want 1", len(runs))
	}
	run := c.obj(runs[0], "$.runs[0]", "run")
	tool := c.obj(run["tool"], "$.runs[0].tool", "tool")
	if tool == nil {
		c.t.Fatal("run.tool is required")
	}
	driver := c.obj(tool["driver"], "$.runs[0].tool.driver", "toolComponent")
	if driver == nil {
		c.t.Fatal("tool.driver is required")
	}
	dp := "$.runs[0].tool.driver"
	if s := c.str(driver, "name", dp, true); s != "weaklink" {
		c.t.Errorf("driver.name = %q", s)
	}
	info := c.str(driver, "informationUri", dp, true)
	if u, err := url.Parse(info); err != nil || !u.IsAbs() {
		c.t.Errorf("driver.informationUri %q is not an absolute URI", info)
	}
	out.version = c.str(driver, "version", dp, false)

	seen := map[string]bool{}
	for i, rv := range c.arr(driver, "rules", dp, true) {
		p := dp + ".rules[" + strconv.Itoa(i) + "]"
		rule := c.obj(rv, p, "reportingDescriptor")
		if rule == nil {
			continue
		}
		id := c.str(rule, "id", p, true)
		if seen[id] {
			c.t.Errorf("%s: duplicate rule id %q", p, id)
		}
		seen[id] = true
		out.rules = append(out.rules, id)
		name := c.str(rule, "name", p, true)
		if name == id || strings.ContainsAny(name, " /") {
			c.t.Errorf("%s.name %q: want a distinct identifier-like name", p, name)
		}
		c.text(rule["shortDescription"], p+".shortDescription", "multiformatMessageString")
		c.text(rule["fullDescription"], p+".fullDescription", "multiformatMessageString")
		c.text(rule["help"], p+".help", "multiformatMessageString")
		cfg := c.obj(rule["defaultConfiguration"], p+".defaultConfiguration", "reportingConfiguration")
		if cfg != nil {
			c.level(cfg["level"], p+".defaultConfiguration.level")
		}
		if props, ok := rule["properties"].(map[string]any); ok {
			if tags, ok := props["tags"].([]any); ok {
				uniq := map[any]bool{}
				for _, tg := range tags {
					if _, ok := tg.(string); !ok || uniq[tg] {
						c.t.Errorf("%s.properties.tags: want unique strings, got %v", p, tags)
					}
					uniq[tg] = true
				}
			}
		}
	}

	fingerprints := map[string]bool{}
	for i, res := range c.arr(run, "results", "$.runs[0]", true) {
		p := "$.runs[0].results[" + strconv.Itoa(i) + "]"
		r := c.obj(res, p, "result")
		if r == nil {
			continue
		}
		out.results = append(out.results, r)
		id := c.str(r, "ruleId", p, true)
		if !seen[id] {
			c.t.Errorf("%s.ruleId %q is not a rule of the driver", p, id)
		}
		if idx, ok := r["ruleIndex"]; !ok {
			c.t.Errorf("%s.ruleIndex: missing", p)
		} else if n := c.intAtLeast(idx, p+".ruleIndex", 0); n >= len(out.rules) || out.rules[n] != id {
			c.t.Errorf("%s.ruleIndex %d does not point at rule %q", p, n, id)
		}
		c.level(r["level"], p+".level")
		c.text(r["message"], p+".message", "message")

		pf, ok := r["partialFingerprints"].(map[string]any)
		if !ok {
			c.t.Errorf("%s.partialFingerprints: missing", p)
		} else {
			fp, _ := pf["weaklink/v1"].(string)
			if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(fp) {
				c.t.Errorf("%s.partialFingerprints[weaklink/v1] = %q, want sha256 hex", p, fp)
			}
			if fingerprints[fp] {
				c.t.Errorf("%s: fingerprint %s repeats", p, fp)
			}
			fingerprints[fp] = true
			for k, v := range pf {
				if _, ok := v.(string); !ok {
					c.t.Errorf("%s.partialFingerprints[%s]: want a string", p, k)
				}
			}
		}
		for j, sv := range c.arr(r, "suppressions", p, false) {
			sp := p + ".suppressions[" + strconv.Itoa(j) + "]"
			s := c.obj(sv, sp, "suppression")
			if k := c.str(s, "kind", sp, true); k != "inSource" && k != "external" {
				c.t.Errorf("%s.kind = %q", sp, k)
			}
			if st := c.str(s, "status", sp, false); st != "" && !slices.Contains([]string{"accepted", "underReview", "rejected"}, st) {
				c.t.Errorf("%s.status = %q", sp, st)
			}
		}
		for j, lv := range c.arr(r, "locations", p, false) {
			lp := p + ".locations[" + strconv.Itoa(j) + "]"
			if j >= 10 {
				c.t.Errorf("%s: more than 10 locations", lp)
			}
			loc := c.obj(lv, lp, "location")
			phys := c.obj(loc["physicalLocation"], lp+".physicalLocation", "physicalLocation")
			if phys == nil {
				continue
			}
			al := c.obj(phys["artifactLocation"], lp+".physicalLocation.artifactLocation", "artifactLocation")
			if al == nil {
				continue
			}
			ap := lp + ".physicalLocation.artifactLocation"
			uri := c.str(al, "uri", ap, true)
			if strings.ContainsAny(uri, " \\\t\n\"<>{}^`") || strings.ContainsRune(uri, utf8.RuneError) {
				c.t.Errorf("%s.uri %q: not percent-encoded", ap, uri)
			}
			u, err := url.Parse(uri)
			switch {
			case err != nil:
				c.t.Errorf("%s.uri %q: %v", ap, uri, err)
			case u.Scheme == "":
				if base := c.str(al, "uriBaseId", ap, true); base != "%SRCROOT%" {
					c.t.Errorf("%s.uriBaseId = %q, want %%SRCROOT%%", ap, base)
				}
				if strings.HasPrefix(uri, "/") {
					c.t.Errorf("%s.uri %q: relative reference must not start with /", ap, uri)
				}
			default:
				if _, has := al["uriBaseId"]; has {
					c.t.Errorf("%s: absolute uri %q with uriBaseId", ap, uri)
				}
			}
			if rv, ok := phys["region"]; ok {
				rp := lp + ".physicalLocation.region"
				region := c.obj(rv, rp, "region")
				if _, ok := region["startLine"]; !ok {
					c.t.Errorf("%s: a text region needs startLine", rp)
				} else {
					c.intAtLeast(region["startLine"], rp+".startLine", 1)
				}
				if sv, ok := region["snippet"]; ok {
					sn := c.obj(sv, rp+".snippet", "artifactContent")
					c.str(sn, "text", rp+".snippet", true)
				}
			}
		}
		props, ok := r["properties"].(map[string]any)
		if !ok {
			c.t.Errorf("%s.properties: missing", p)
			continue
		}
		if v, _ := props["vendor"].(string); v == "" {
			c.t.Errorf("%s.properties.vendor: missing", p)
		}
		if _, ok := props["categories"].([]any); !ok {
			c.t.Errorf("%s.properties.categories: want an array", p)
		}
	}
	return out
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSARIFDrift(t *testing.T) {
	r := formatTestReport()
	run := sarifChecker{t}.check(writeReport(t, "sarif", r))
	if run.version != "1.4.0" {
		t.Errorf("driver.version = %q", run.version)
	}
	wantRules := []string{"new-vendor", "unapproved-vendor", "new-category", "no-evidence"}
	for _, k := range Kinds {
		wantRules = append(wantRules, string(k))
	}
	if !slices.Equal(run.rules, wantRules) {
		t.Errorf("rules = %v, want %v", run.rules, wantRules)
	}
	if len(run.results) != len(r.Drift.Items) {
		t.Fatalf("results = %d, want one per drift item (%d)", len(run.results), len(r.Drift.Items))
	}
	for i, it := range r.Drift.Items {
		res := run.results[i]
		if res["ruleId"] != it.Kind {
			t.Errorf("result %d: ruleId %v, want %s", i, res["ruleId"], it.Kind)
		}
		wantLevel := "note"
		if it.Blocking() {
			wantLevel = "error"
		}
		if res["level"] != wantLevel {
			t.Errorf("result %d (%s, baselined %v): level %v, want %s", i, it.Kind, it.Baselined, res["level"], wantLevel)
		}
		if fp := res["partialFingerprints"].(map[string]any)["weaklink/v1"]; fp != sha(it.Key()) {
			t.Errorf("result %d: fingerprint %v, want sha256 of %q", i, fp, it.Key())
		}
		_, suppressed := res["suppressions"]
		if suppressed != it.Baselined {
			t.Errorf("result %d: suppressions present %v, baselined %v", i, suppressed, it.Baselined)
		}
		locs, _ := res["locations"].([]any)
		if len(locs) != len(it.Evidence) {
			t.Errorf("result %d: %d locations, want %d", i, len(locs), len(it.Evidence))
		}
		props := res["properties"].(map[string]any)
		if props["vendor"] != it.Vendor {
			t.Errorf("result %d: properties.vendor %v", i, props["vendor"])
		}
		cats := props["categories"].([]any)
		if (it.Category == "") != (len(cats) == 0) || (len(cats) == 1 && cats[0] != it.Category) {
			t.Errorf("result %d: properties.categories %v, want [%s]", i, cats, it.Category)
		}
		msg := res["message"].(map[string]any)["text"].(string)
		if strings.ContainsAny(msg, "\x1b\x07\n") {
			t.Errorf("result %d: message has control characters: %q", i, msg)
		}
	}
	// The hostile snippet is kept as text, minus its escape sequences.
	first := run.results[0]["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)
	al := first["artifactLocation"].(map[string]any)
	if al["uri"] != "web/templates/sign%20up.html" || al["uriBaseId"] != "%SRCROOT%" {
		t.Errorf("artifactLocation = %v", al)
	}
	region := first["region"].(map[string]any)
	if region["startLine"] != float64(41) {
		t.Errorf("startLine = %v", region["startLine"])
	}
	snip := region["snippet"].(map[string]any)["text"].(string)
	if !strings.Contains(snip, "<script src=") || strings.ContainsRune(snip, 0x1b) || !strings.Contains(snip, "\nqv.init") {
		t.Errorf("snippet text = %q", snip)
	}
	// The HAR evidence has no line: a location without a region.
	second := run.results[0]["locations"].([]any)[1].(map[string]any)["physicalLocation"].(map[string]any)
	if _, has := second["region"]; has {
		t.Errorf("line-less evidence has a region: %v", second)
	}
}

func TestSARIFFindings(t *testing.T) {
	r := formatTestReport()
	r.Drift = nil
	run := sarifChecker{t}.check(writeReport(t, "sarif", r))
	if len(run.results) != len(r.Findings) {
		t.Fatalf("results = %d, want one per finding (%d)", len(run.results), len(r.Findings))
	}
	for i, f := range r.Findings {
		res := run.results[i]
		if res["ruleId"] != string(f.Kind) || res["level"] != "note" {
			t.Errorf("result %d: ruleId %v level %v, want %s note", i, res["ruleId"], res["level"], f.Kind)
		}
		if fp := res["partialFingerprints"].(map[string]any)["weaklink/v1"]; fp != sha(f.Fingerprint()) {
			t.Errorf("result %d: fingerprint %v, want sha256 of %q", i, fp, f.Fingerprint())
		}
		if _, has := res["suppressions"]; has {
			t.Errorf("result %d: suppressed", i)
		}
		cats := res["properties"].(map[string]any)["categories"].([]any)
		if len(cats) != len(f.Categories) {
			t.Errorf("result %d: categories %v", i, cats)
		}
	}
}

func TestSARIFEmptyAndErrors(t *testing.T) {
	run := sarifChecker{t}.check(writeReport(t, "sarif", &Report{}))
	if len(run.results) != 0 || len(run.rules) != 11 {
		t.Errorf("empty report: %d results, %d rules", len(run.results), len(run.rules))
	}
	var buf bytes.Buffer
	err := WriteReport(&buf, "sarif", &Report{Drift: &Drift{Items: []DriftItem{{Kind: "bogus", Vendor: "x"}}}}, "")
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown drift kind: err = %v", err)
	}
	// Without a version the driver has none, rather than an empty string.
	var log map[string]any
	if err := json.Unmarshal(writeReport(t, "sarif", &Report{}), &log); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := WriteReport(&buf, "sarif", &Report{}, ""); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"version": ""`) {
		t.Error("empty driver version written")
	}
}

// Evidence beyond ten locations is left out; code scanning reads ten.
func TestSARIFLocationLimit(t *testing.T) {
	it := DriftItem{Kind: DriftNewVendor, Vendor: "posthog", Message: "new vendor posthog"}
	for i := range 25 {
		it.Evidence = append(it.Evidence, Evidence{File: "f.js", Line: i + 1})
	}
	it.Evidence = append([]Evidence{{File: ""}}, it.Evidence...)
	run := sarifChecker{t}.check(writeReport(t, "sarif", &Report{Drift: &Drift{Items: []DriftItem{it}}}))
	if n := len(run.results[0]["locations"].([]any)); n != 10 {
		t.Errorf("locations = %d, want 10", n)
	}
}
