package discover

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/weaklink/weaklink/internal/textutil"
	"io"
	"math"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// Formats lists the output formats of a report.
var Formats = []string{"table", "json", "markdown", "sarif"}

// WriteReport writes r in format to w. Output is deterministic for the same
// report (no timestamps except what's in r).
//
// Everything a report carries may come from scanned files (paths, snippets,
// hosts, keys) and so may be hostile: the table strips terminal escapes and
// control characters, markdown escapes what could break a table or inject
// HTML, and JSON and SARIF rely on JSON string escaping.
func WriteReport(w io.Writer, format string, r *Report, version string) error {
	if r == nil {
		return errors.New("discover: no report to write")
	}
	var buf bytes.Buffer
	switch format {
	case "table":
		writeTableReport(&buf, r)
	case "json":
		if err := writeJSONReport(&buf, r); err != nil {
			return err
		}
	case "markdown":
		writeMarkdownReport(&buf, r)
	case "sarif":
		if err := writeSARIFReport(&buf, r, version); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown report format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ---- shared helpers --------------------------------------------------------

// printable makes untrusted text safe to show: ANSI escape sequences are
// dropped; other control characters, bidirectional overrides and invalid
// UTF-8 become U+FFFD. With oneLine, tabs and line breaks become spaces and
// runs of spaces collapse; otherwise tabs and newlines are kept (CRLF becomes
// LF).
func printable(s string, oneLine bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			i += escapeLen(s[i:])
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r' && i < len(s) && s[i] == '\n':
			// CRLF: the LF comes next.
		case r == '\n' || r == '\t' || r == '\r' || r == '\v' || r == '\f':
			if oneLine {
				b.WriteByte(' ')
			} else if r == '\t' {
				b.WriteByte('\t')
			} else {
				b.WriteByte('\n')
			}
		case r == utf8.RuneError, unicode.IsControl(r), isBidiControl(r), r == '\u2028', r == '\u2029':
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	if oneLine {
		return strings.Join(strings.Fields(b.String()), " ")
	}
	return b.String()
}

// isBidiControl reports the explicit bidirectional formatting characters
// that can make text display in another order than it is read ("Trojan
// Source").
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// escapeLen is the length of the escape sequence at the start of s, which
// starts with ESC: CSI (ESC [ … final), OSC and other string sequences
// (ESC ] … BEL or ESC \), and two- or three-byte escapes. An unterminated
// string sequence only loses its introducer, so the text after it stays
// visible.
func escapeLen(s string) int {
	if len(s) < 2 {
		return 1
	}
	switch c := s[1]; {
	case c == '[':
		j := 2
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x3f {
			j++
		}
		if j < len(s) && s[j] >= 0x40 && s[j] <= 0x7e {
			j++
		}
		return j
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		for j := 2; j < len(s); j++ {
			if s[j] == 0x07 {
				return j + 1
			}
			if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
		}
		return 2
	case c >= 0x20 && c <= 0x2f: // intermediate bytes, then a final byte
		j := 1
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
			j++
		}
		if j < len(s) && s[j] >= 0x30 && s[j] <= 0x7e {
			j++
		}
		return j
	case c >= 0x30 && c <= 0x7e:
		return 2
	}
	return 1
}

// confidence formats a confidence with at most two decimals: 0.9, 0.85, 1.
func confidence(c float64) string {
	if math.IsNaN(c) || math.IsInf(c, 0) {
		return "?"
	}
	return strconv.FormatFloat(math.Round(c*100)/100, 'f', -1, 64)
}

// categoryList is "user.contact.email (0.9), user.identifier (0.8)".
func categoryList(cs []Category) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Key + " (" + confidence(c.Confidence) + ")"
	}
	return strings.Join(parts, ", ")
}

func kindList(ks []Kind) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = string(k)
	}
	return strings.Join(parts, ", ")
}

// vendorName is the vendor's name, "(not in catalog)" for an unknown vendor.
func vendorName(v VendorSummary) string {
	if !v.Known {
		return "(not in catalog)"
	}
	return v.Name
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// statsLine is the one-line summary of a run.
func statsLine(r *Report) string {
	unknown := 0
	for _, v := range r.Vendors {
		if !v.Known {
			unknown++
		}
	}
	var b strings.Builder
	b.WriteString(plural(r.Stats.Files, "file", "files") + " scanned, " + strconv.Itoa(r.Stats.Skipped) + " skipped")
	if r.Stats.Captures > 0 {
		b.WriteString(", " + plural(r.Stats.Captures, "capture", "captures") + " read")
	}
	b.WriteString("; " + plural(len(r.Findings), "finding", "findings") + ", " + plural(len(r.Vendors), "vendor", "vendors"))
	if unknown > 0 {
		b.WriteString(" (" + strconv.Itoa(unknown) + " not in catalog)")
	}
	return b.String()
}

// driftCounts counts blocking, baselined and informational (no-evidence)
// items.
func driftCounts(d *Drift) (blocking, baselined, info int) {
	for _, it := range d.Items {
		switch {
		case it.Baselined:
			baselined++
		case it.Blocking():
			blocking++
		default:
			info++
		}
	}
	return
}

func driftSummary(d *Drift) string {
	blocking, baselined, info := driftCounts(d)
	return fmt.Sprintf("%d blocking, %d baselined, %d without evidence", blocking, baselined, info)
}

// ---- table -----------------------------------------------------------------

// tableCell is one table cell: printable, on one line, bounded, "-" when empty.
func tableCell(s string, limit int) string {
	s = printable(s, true)
	if limit > 0 {
		s = textutil.Shorten(s, limit)
	}
	if s == "" {
		return "-"
	}
	return s
}

func writeTableReport(w *bytes.Buffer, r *Report) {
	if len(r.Vendors) == 0 {
		w.WriteString("No vendors found.\n")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "VENDOR\tNAME\tKINDS\tSYSTEMS\tCATEGORIES\tEVIDENCE")
		for _, v := range r.Vendors {
			fmt.Fprintln(tw, strings.Join([]string{
				tableCell(v.Vendor, 80),
				tableCell(vendorName(v), 40),
				tableCell(kindList(v.Kinds), 0),
				tableCell(strings.Join(v.Systems, ", "), 60),
				tableCell(categoryList(v.Categories), 0),
				tableCell(v.Evidence.Ref(), 80),
			}, "\t"))
		}
		tw.Flush()
	}
	if r.Drift != nil {
		w.WriteString("\n")
		if len(r.Drift.Items) == 0 {
			w.WriteString("Drift: none, discovery matches the inventory.\n")
		} else {
			w.WriteString("Drift (" + driftSummary(r.Drift) + "):\n")
			for _, it := range r.Drift.Items {
				w.WriteString("  ")
				if len(it.Evidence) > 0 {
					w.WriteString(tableCell(it.Evidence[0].Ref(), 120))
					if n := len(it.Evidence) - 1; n > 0 {
						fmt.Fprintf(w, " (+%d more)", n)
					}
					w.WriteString(": ")
				}
				w.WriteString(tableCell(driftMessage(it), 0))
				if it.Baselined {
					w.WriteString(" [baselined]")
				}
				w.WriteString("\n")
			}
		}
	}
	w.WriteString("\n" + statsLine(r) + "\n")
}

// driftMessage is the item's message, or one made from its fields.
func driftMessage(it DriftItem) string {
	if strings.TrimSpace(it.Message) != "" {
		return it.Message
	}
	parts := []string{it.Kind, it.Vendor}
	for _, p := range []string{it.System, it.Category, it.Flow} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// ---- json ------------------------------------------------------------------

func writeJSONReport(w *bytes.Buffer, r *Report) error {
	// Empty lists print as [] rather than null: a stable shape for scripts.
	out := *r
	if out.Roots == nil {
		out.Roots = []string{}
	}
	if out.Vendors == nil {
		out.Vendors = []VendorSummary{}
	}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	if out.Drift != nil && out.Drift.Items == nil {
		out.Drift = &Drift{Items: []DriftItem{}}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("discover: writing JSON report: %w", err)
	}
	return nil
}

// ---- markdown --------------------------------------------------------------

// mdReplacer escapes text for a markdown table cell or list item: table
// pipes, code and emphasis markers, link brackets and HTML.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`,
	"`", "\\`",
	`|`, `\|`,
	`*`, `\*`,
	`_`, `\_`,
	`~`, `\~`,
	`[`, `\[`,
	`]`, `\]`,
	`&`, `&amp;`,
	`<`, `&lt;`,
	`>`, `&gt;`,
)

// mdText is untrusted text as one line of inert markdown.
func mdText(s string, limit int) string {
	s = printable(s, true)
	if limit > 0 {
		s = textutil.Shorten(s, limit)
	}
	return mdReplacer.Replace(s)
}

// mdCode shows untrusted text in code style. A markdown code span cannot
// escape anything inside it, so this is an HTML code element whose content
// is escaped like any other text: backticks, pipes and tags stay literal.
func mdCode(s string, limit int) string {
	t := mdText(s, limit)
	if t == "" {
		return ""
	}
	return "<code>" + t + "</code>"
}

func mdRow(w *bytes.Buffer, cells ...string) {
	w.WriteString("|")
	for _, c := range cells {
		w.WriteString(" " + c + " |")
	}
	w.WriteString("\n")
}

func writeMarkdownReport(w *bytes.Buffer, r *Report) {
	w.WriteString("# Vendor discovery\n\n")
	w.WriteString(mdText(statsLine(r), 0) + ".\n")

	w.WriteString("\n## Vendors\n\n")
	if len(r.Vendors) == 0 {
		w.WriteString("No vendors found.\n")
	} else {
		mdRow(w, "Vendor", "Name", "Kinds", "Systems", "Categories", "Findings", "First evidence")
		mdRow(w, "---", "---", "---", "---", "---", "---:", "---")
		for _, v := range r.Vendors {
			mdRow(w,
				mdText(v.Vendor, 100),
				mdText(vendorName(v), 60),
				mdText(kindList(v.Kinds), 0),
				mdText(strings.Join(v.Systems, ", "), 100),
				mdText(categoryList(v.Categories), 0),
				strconv.Itoa(v.Findings),
				mdCode(v.Evidence.Ref(), 120),
			)
		}
	}

	if r.Drift != nil {
		w.WriteString("\n## Drift\n\n")
		if len(r.Drift.Items) == 0 {
			w.WriteString("None: discovery matches the inventory.\n")
		} else {
			w.WriteString(driftSummary(r.Drift) + ".\n\n")
			for _, it := range r.Drift.Items {
				status := "**Blocking**"
				switch {
				case it.Baselined:
					status = "Baselined"
				case !it.Blocking():
					status = "Info"
				}
				w.WriteString("- " + status + " " + mdText(it.Kind, 40) + ": " + mdText(driftMessage(it), 0))
				if len(it.Evidence) > 0 {
					refs := make([]string, 0, 3)
					for _, e := range it.Evidence[:min(len(it.Evidence), 3)] {
						refs = append(refs, mdCode(e.Ref(), 120))
					}
					w.WriteString(" (" + strings.Join(refs, ", "))
					if n := len(it.Evidence) - len(refs); n > 0 {
						fmt.Fprintf(w, " and %d more", n)
					}
					w.WriteString(")")
				}
				w.WriteString("\n")
			}
		}
	}

	w.WriteString("\n## Findings\n\n")
	if len(r.Findings) == 0 {
		w.WriteString("No findings.\n")
		return
	}
	mdRow(w, "Vendor", "Kind", "Evidence", "Categories", "Snippet")
	mdRow(w, "---", "---", "---", "---", "---")
	for _, f := range r.Findings {
		mdRow(w,
			mdText(f.Vendor, 100),
			mdText(string(f.Kind), 40),
			mdCode(f.Evidence.Ref(), 120),
			mdText(categoryList(f.Categories), 0),
			mdCode(f.Evidence.Snippet, 120),
		)
	}
}

// ---- sarif -----------------------------------------------------------------

const (
	sarifSchema      = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion     = "2.1.0"
	sarifToolName    = "weaklink"
	sarifToolURI     = "https://github.com/weaklink/weaklink"
	sarifSrcRoot     = "%SRCROOT%"
	sarifFingerprint = "weaklink/v1"
	// sarifMaxLocations is the most locations a result lists; code scanning
	// reads no more than 10.
	sarifMaxLocations = 10
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name"`
	ShortDescription     sarifMessage       `json:"shortDescription"`
	FullDescription      sarifMessage       `json:"fullDescription"`
	Help                 sarifMessage       `json:"help"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	Properties           sarifRuleProps     `json:"properties"`
}

type sarifRuleProps struct {
	Tags []string `json:"tags"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations,omitempty"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          sarifResultProps   `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int           `json:"startLine"`
	Snippet   *sarifMessage `json:"snippet,omitempty"` // an artifactContent: {text}
}

type sarifSuppression struct {
	Kind   string `json:"kind"`
	Status string `json:"status,omitempty"`
}

type sarifResultProps struct {
	Vendor     string   `json:"vendor"`
	VendorName string   `json:"vendorName,omitempty"`
	Key        string   `json:"key,omitempty"` // the drift item's baseline key
	Categories []string `json:"categories"`
	DriftKind  string   `json:"driftKind,omitempty"`
	Kind       string   `json:"kind,omitempty"`
	System     string   `json:"system,omitempty"`
	Flow       string   `json:"flow,omitempty"`
	Detail     string   `json:"detail,omitempty"`
	Baselined  bool     `json:"baselined,omitempty"`
}

// sarifRuleDef describes one rule: a drift kind or a finding kind.
type sarifRuleDef struct {
	id, name, level, short, full, help string
}

// sarifRules are the rules, drift kinds first, then finding kinds in
// report order.
var sarifRules = []sarifRuleDef{
	{DriftNewVendor, "NewVendor", "error",
		"A vendor is used that the inventory does not list",
		"Discovery found a vendor (an SDK, endpoint, snippet, config key or captured request) that the data inventory does not list, so personal data may reach a processor nobody reviewed.",
		"Add the vendor to the inventory with the flows that reach it and get it approved, or remove its use. If the use is known and accepted, add the item to the baseline file with a reason."},
	{DriftUnapproved, "UnapprovedVendor", "error",
		"A vendor is used that the inventory lists but has not approved",
		"Discovery found a vendor that the inventory lists, but its status is neither approved nor active.",
		"Finish the vendor's review and mark it approved in the inventory, or remove its use. If the use is known and accepted, add the item to the baseline file with a reason."},
	{DriftNewCategory, "NewCategory", "error",
		"Data goes to a vendor in a category no declared flow covers",
		"Discovery found a data category sent to a vendor (from a system) that no flow in the inventory declares.",
		"Declare the flow with this category in the inventory, or stop sending the data. If the use is known and accepted, add the item to the baseline file with a reason."},
	{DriftNoEvidence, "NoEvidence", "note",
		"A declared flow has no evidence in the code or captures",
		"The inventory declares a flow to a vendor that discovery found nothing to back: the flow may be gone, or it happens where discovery cannot see it.",
		"Check whether the flow still exists. Remove it from the inventory if it is gone; otherwise nothing needs to change. This does not fail the build."},
	{string(KindDependency), "VendorDependency", "note",
		"A dependency manifest names a vendor's SDK",
		"A manifest or lock file depends on a vendor's SDK package.",
		"Make sure the vendor and the data sent to it are in the inventory; remove the dependency if it is unused."},
	{string(KindSDKInit), "VendorSdkInit", "note",
		"Code imports or initialises a vendor's SDK",
		"Code imports or initialises a vendor's SDK, so the vendor receives at least device and usage data.",
		"Make sure the vendor is in the inventory with the flows this code creates."},
	{string(KindDataSend), "VendorDataSend", "note",
		"Code sends data to a vendor through its SDK",
		"Code calls a vendor's SDK with data (track, identify, capture and similar); the categories are inferred from the arguments.",
		"Make sure a flow in the inventory declares these categories for this vendor, or stop sending the data."},
	{string(KindEndpoint), "VendorEndpoint", "note",
		"Code or config references a vendor's endpoint",
		"A vendor hostname or API URL appears in code or configuration.",
		"Make sure the vendor and what is sent to the endpoint are in the inventory."},
	{string(KindSnippet), "VendorSnippet", "note",
		"A page loads a vendor's script or snippet",
		"An HTML script tag, snippet loader or Content-Security-Policy entry loads a vendor's code in the browser.",
		"Make sure the vendor is in the inventory; a script in the page can read everything the page shows."},
	{string(KindConfigKey), "VendorConfigKey", "note",
		"A configuration key names a vendor",
		"A configuration or environment key names a vendor (SENTRY_DSN and similar), so the service is likely wired to it.",
		"Make sure the vendor is in the inventory; remove the key if the integration is gone."},
	{string(KindTraffic), "VendorTraffic", "note",
		"A browser capture shows a request to a vendor",
		"A request in a browser capture (HAR) goes to a vendor; the categories are inferred from the request.",
		"Make sure the vendor and the data in the request are in the inventory."},
}

// sarifKindPhrase says what a finding of each kind shows.
var sarifKindPhrase = map[Kind]string{
	KindDependency: "dependency on the vendor's SDK",
	KindSDKInit:    "SDK imported or initialised",
	KindDataSend:   "data sent through the SDK",
	KindEndpoint:   "vendor endpoint referenced",
	KindSnippet:    "vendor script or snippet loaded",
	KindConfigKey:  "configuration key for the vendor",
	KindTraffic:    "request to the vendor in a browser capture",
}

func fingerprintHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sarifURI turns an evidence path into a URI: relative paths are
// percent-encoded forward-slash URIs under %SRCROOT%, absolute paths become
// file URIs.
func sarifURI(file string) (uri, baseID string) {
	p := filepath.ToSlash(file)
	abs := filepath.IsAbs(file) || strings.HasPrefix(p, "/")
	if !abs {
		p = strings.TrimPrefix(path.Clean(p), "./")
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		s = url.PathEscape(s)
		if !abs {
			// A colon in a relative reference's first segment would read as
			// a scheme ("c:foo"); escape colons everywhere for one rule.
			s = strings.ReplaceAll(s, ":", "%3A")
		}
		segs[i] = s
	}
	p = strings.Join(segs, "/")
	if abs {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		return "file://" + p, ""
	}
	return p, sarifSrcRoot
}

func sarifLocations(evs []Evidence) []sarifLocation {
	var out []sarifLocation
	for _, e := range evs {
		if e.File == "" {
			continue
		}
		if len(out) == sarifMaxLocations {
			break
		}
		uri, base := sarifURI(e.File)
		loc := sarifLocation{PhysicalLocation: sarifPhysicalLocation{
			ArtifactLocation: sarifArtifactLocation{URI: uri, URIBaseID: base},
		}}
		// A region needs a start; a snippet without a line has no place.
		if e.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: e.Line}
			if s := printable(e.Snippet, false); strings.TrimSpace(s) != "" {
				loc.PhysicalLocation.Region.Snippet = &sarifMessage{Text: s}
			}
		}
		out = append(out, loc)
	}
	return out
}

func writeSARIFReport(w *bytes.Buffer, r *Report, version string) error {
	ruleIndex := map[string]int{}
	rules := make([]sarifRule, len(sarifRules))
	for i, d := range sarifRules {
		ruleIndex[d.id] = i
		tags := []string{"privacy", "vendor"}
		if !slices.Contains(Kinds, Kind(d.id)) {
			tags = append(tags, "drift")
		}
		rules[i] = sarifRule{
			ID:                   d.id,
			Name:                 d.name,
			ShortDescription:     sarifMessage{Text: d.short},
			FullDescription:      sarifMessage{Text: d.full},
			Help:                 sarifMessage{Text: d.help},
			DefaultConfiguration: sarifConfiguration{Level: d.level},
			Properties:           sarifRuleProps{Tags: tags},
		}
	}

	results := []sarifResult{}
	if r.Drift != nil {
		for _, it := range r.Drift.Items {
			idx, ok := ruleIndex[it.Kind]
			if !ok {
				return fmt.Errorf("discover: drift item %q: unknown kind %q", it.Key(), it.Kind)
			}
			level := "note"
			if it.Blocking() {
				level = "error"
			}
			res := sarifResult{
				RuleID:              it.Kind,
				RuleIndex:           idx,
				Level:               level,
				Message:             sarifMessage{Text: printable(driftMessage(it), true)},
				Locations:           sarifLocations(it.Evidence),
				PartialFingerprints: map[string]string{sarifFingerprint: fingerprintHash(it.Key())},
				Properties: sarifResultProps{
					Vendor:     printable(it.Vendor, true),
					Categories: []string{},
					DriftKind:  it.Kind,
					Key:        printable(it.Key(), true),
					System:     printable(it.System, true),
					Flow:       printable(it.Flow, true),
					Baselined:  it.Baselined,
				},
			}
			if it.Category != "" {
				res.Properties.Categories = append(res.Properties.Categories, printable(it.Category, true))
			}
			if it.Baselined {
				res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted"}}
			}
			results = append(results, res)
		}
	} else {
		for _, f := range r.Findings {
			idx, ok := ruleIndex[string(f.Kind)]
			if !ok {
				return fmt.Errorf("discover: finding %q: unknown kind %q", f.Fingerprint(), f.Kind)
			}
			cats := make([]string, len(f.Categories))
			for i, c := range f.Categories {
				cats[i] = printable(c.Key, true)
			}
			results = append(results, sarifResult{
				RuleID:              string(f.Kind),
				RuleIndex:           idx,
				Level:               "note",
				Message:             sarifMessage{Text: findingMessage(f)},
				Locations:           sarifLocations([]Evidence{f.Evidence}),
				PartialFingerprints: map[string]string{sarifFingerprint: fingerprintHash(f.Fingerprint())},
				Properties: sarifResultProps{
					Vendor:     printable(f.Vendor, true),
					VendorName: printable(f.VendorName, true),
					Categories: cats,
					Kind:       string(f.Kind),
					System:     printable(f.System, true),
					Detail:     printable(f.Detail, true),
				},
			})
		}
	}

	log := sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name:           sarifToolName,
				InformationURI: sarifToolURI,
				Version:        version,
				Rules:          rules,
			}},
			Results: results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("discover: writing SARIF report: %w", err)
	}
	return nil
}

// findingMessage is one line about a finding: who, what and with which data.
func findingMessage(f Finding) string {
	who := f.Vendor
	if f.VendorName != "" {
		who = f.VendorName + " (" + f.Vendor + ")"
	}
	what := sarifKindPhrase[f.Kind]
	if what == "" {
		what = string(f.Kind)
	}
	msg := who + ": " + what
	if f.Detail != "" {
		msg += " (" + f.Detail + ")"
	}
	if len(f.Categories) > 0 {
		msg += "; categories: " + categoryList(f.Categories)
	}
	return printable(msg, true)
}
