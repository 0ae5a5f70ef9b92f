package incident

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// -update rewrites the golden files in testdata/notify. Registered in init,
// and only if no other test file of the package has registered it already.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func notifyUpdateGolden() bool {
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

func notifyTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// notifyMixpanelRecipients are the affected people of the Mixpanel example.
var notifyMixpanelRecipients = []PackRecipient{
	{Subject: "u_10482", Jurisdiction: "US-CA", Categories: []string{"user.name", "user.contact.email", "user.location.imprecise", "user.device.user_agent", "user.unique_id", "user.behavior.referrer"},
		FirstSeen: notifyTime("2024-03-02T09:14:00Z"), LastSeen: notifyTime("2025-11-07T17:40:00Z")},
	{Subject: "u_20117", Jurisdiction: "US-CA", Categories: []string{"user.contact.email", "user.unique_id", "user.device.user_agent"},
		FirstSeen: notifyTime("2025-01-20T11:02:00Z"), LastSeen: notifyTime("2025-11-08T08:05:00Z")},
	{Subject: "u_31555", Jurisdiction: "DE", Categories: []string{"user.name", "user.contact.email", "user.location.imprecise", "user.unique_id"},
		FirstSeen: notifyTime("2023-11-30T20:00:00Z"), LastSeen: notifyTime("2025-10-29T13:21:00Z")},
	{Subject: "u_40020", Jurisdiction: "GB", Categories: []string{"user.contact.email", "user.unique_id", "user.behavior.referrer"},
		FirstSeen: notifyTime("2025-06-11T07:45:00Z"), LastSeen: notifyTime("2025-11-09T06:10:00Z")},
	{Subject: "u_50991", Jurisdiction: "unknown", Categories: []string{"user.unique_id", "user.device.user_agent"},
		FirstSeen: notifyTime("2025-11-01T00:00:00Z"), LastSeen: notifyTime("2025-11-01T00:00:00Z")},
}

// notifyMixpanelPack is the Mixpanel breach of November 2025 as Acme Cloud
// saw it: Mixpanel discovered the export on 9 November and told its
// customer on 25 November, against a 48-hour contractual clock.
func notifyMixpanelPack() Pack {
	cats := []string{"user.name", "user.contact.email", "user.location.imprecise", "user.device.user_agent", "user.unique_id", "user.behavior.referrer"}
	in := Incident{
		ID:       "019ab8a2-5c10-7d3e-9a41-6f0e2b7c8d11",
		Vendor:   "mixpanel",
		Title:    "Mixpanel: analytics dataset exported after a smishing attack",
		Severity: "medium",
		Owner:    "privacy@acme.example",
		Status:   StatusInvestigating,
		Times: map[Anchor]time.Time{
			AnchorVendorDiscovered: notifyTime("2025-11-09T00:00:00Z"),
			AnchorVendorNotified:   notifyTime("2025-11-25T18:00:00Z"),
			AnchorDatasetReceived:  notifyTime("2025-11-25T18:00:00Z"),
			AnchorAware:            notifyTime("2025-11-25T18:00:00Z"),
		},
		Categories:          cats,
		WindowTo:            notifyTime("2025-11-09T00:00:00Z"),
		ContractNoticeHours: 48,
		Notes:               "Mixpanel says an attacker got into its systems after a smishing campaign against its staff and exported a dataset of customer-identifiable analytics data.\nNo chat content, API requests, passwords, API keys or payment data, per Mixpanel.",
		Revision:            4,
		CreatedAt:           notifyTime("2025-11-25T18:20:00Z"),
		UpdatedAt:           notifyTime("2025-11-26T09:30:00Z"),
	}
	return Pack{
		Incident: in,
		Vendor:   "Mixpanel",
		Affected: []string{"Mixpanel"},
		Exposure: Exposure{
			Categories:     cats,
			Subjects:       5,
			ByJurisdiction: map[string]int64{"US-CA": 2, "DE": 1, "GB": 1, "unknown": 1},
		},
		Systems: []string{"web-app", "marketing-site"},
		Profile: Profile{
			Name:            "Acme Cloud, Inc.",
			Contact:         "privacy@acme.example, or Acme Cloud, Inc., 100 Example Street, San Francisco, CA 94105",
			DPO:             "dpo@acme.example",
			Website:         "acme.example",
			EUEstablishment: "IE",
		},
		Timeline: []Event{
			{ID: "019ab8a2-5c10-7d3e-9a41-000000000001", Incident: in.ID, At: notifyTime("2025-11-25T18:20:00Z"), Actor: "dana@acme.example", Kind: "opened", Message: "Mixpanel notice received by email; incident opened"},
			{ID: "019ab8a2-5c10-7d3e-9a41-000000000002", Incident: in.ID, At: notifyTime("2025-11-25T19:05:00Z"), Actor: "weaklink", Kind: "blast-radius", Message: "5 people in 6 categories from web-app and marketing-site"},
			{ID: "019ab8a2-5c10-7d3e-9a41-000000000003", Incident: in.ID, At: notifyTime("2025-11-25T19:06:00Z"), Actor: "weaklink", Kind: "clocks", Message: "GDPR Art. 33 due 2025-11-28 18:00 UTC; no US state duty"},
			{ID: "019ab8a2-5c10-7d3e-9a41-000000000004", Incident: in.ID, At: notifyTime("2025-11-26T09:30:00Z"), Actor: "dana@acme.example", Kind: "status", Message: "status changed", Changes: map[string][2]string{"status": {"triage", "investigating"}}},
		},
		Duties: []DutyLine{
			{Rule: "gdpr-art33", Regime: "GDPR", Audience: "Lead supervisory authority (IE)", Deadline: "2025-11-28 18:00 UTC", Status: "open", Citation: "Reg. (EU) 2016/679 Art. 33"},
			{Rule: "gdpr-art34", Regime: "GDPR", Audience: "Affected people", Deadline: "without undue delay, if high risk", Status: "open", Citation: "Reg. (EU) 2016/679 Art. 34"},
			{Rule: "uk-gdpr-art33", Regime: "UK GDPR", Audience: "ICO", Deadline: "2025-11-28 18:00 UTC", Status: "open", Citation: "UK GDPR Art. 33"},
			{Rule: "us-ca-1798.82", Regime: "California", Audience: "Residents", Deadline: "—", Status: "n/a", Citation: "Cal. Civ. Code 1798.82 (no triggering element exposed; voluntary notice recommended)"},
			{Rule: "contract-notice", Regime: "Contract", Audience: "Us (from Mixpanel)", Deadline: "2025-11-11 00:00 UTC", Status: "missed", Citation: "Mixpanel DPA, 48 hours"},
		},
		Recipients: func(yield func(PackRecipient) error) error {
			for _, r := range notifyMixpanelRecipients {
				if err := yield(r); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func notifyRead(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPackGoldenMixpanel(t *testing.T) {
	dir := t.TempDir()
	files, err := WritePack(context.Background(), dir, notifyMixpanelPack())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(PackFiles) {
		t.Fatalf("WritePack returned %d files, want %d", len(files), len(PackFiles))
	}
	golden := filepath.Join("testdata", "notify")
	for i, f := range PackFiles {
		if files[i] != filepath.Join(dir, f.Name) {
			t.Errorf("files[%d] = %s, want %s", i, files[i], filepath.Join(dir, f.Name))
		}
		got := notifyRead(t, dir, f.Name)
		path := filepath.Join(golden, f.Name)
		if notifyUpdateGolden() {
			if err := os.MkdirAll(golden, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestPackGoldenMixpanel -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s (run with -update to accept):\n%s", f.Name, path, notifyDiff(string(want), got))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(PackFiles) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("pack dir holds %v, want exactly the pack files (no temporary files left)", names)
	}
}

// notifyDiff shows the first differing line.
func notifyDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant: %q\ngot:  %q", i+1, a, b)
		}
	}
	return "(no line differs)"
}

func TestPackDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if _, err := WritePack(context.Background(), a, notifyMixpanelPack()); err != nil {
		t.Fatal(err)
	}
	if _, err := WritePack(context.Background(), b, notifyMixpanelPack()); err != nil {
		t.Fatal(err)
	}
	for _, f := range PackFiles {
		if x, y := notifyRead(t, a, f.Name), notifyRead(t, b, f.Name); x != y {
			t.Errorf("%s differs between two writes of the same pack:\n%s", f.Name, notifyDiff(x, y))
		}
	}
}

// notifyStrictURL is the acceptance rule for the people letter, stricter
// than FindURL: not even the letters "http" may appear.
var notifyStrictURL = regexp.MustCompile(`(?i)https?|://|www\.|<a[\s>]|href|mailto:`)

func TestPackPeopleLetterHasNoURL(t *testing.T) {
	p := notifyMixpanelPack()
	p.Profile.Website = "https://www.acme.example/help?from=letter"
	p.Profile.Contact = "http://support.acme.example or mailto:privacy@acme.example"
	p.Vendor = `Mixpanel <a href="https://evil.example">click</a>`
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, p); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{PackPeopleMD, PackPeopleHTM} {
		s := notifyRead(t, dir, name)
		if m := notifyStrictURL.FindString(s); m != "" {
			t.Errorf("%s contains %q", name, m)
		}
		if m := FindURL(s); m != "" {
			t.Errorf("%s: FindURL found %q", name, m)
		}
		if !strings.Contains(s, "acme.example") {
			t.Errorf("%s does not name the website as text", name)
		}
	}
	// The Mixpanel golden letters too.
	dir = t.TempDir()
	if _, err := WritePack(context.Background(), dir, notifyMixpanelPack()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{PackPeopleMD, PackPeopleHTM} {
		s := notifyRead(t, dir, name)
		if m := notifyStrictURL.FindString(s); m != "" {
			t.Errorf("%s contains %q", name, m)
		}
		if !strings.Contains(s, "acme.example") || !strings.Contains(s, "yourself") {
			t.Errorf("%s does not tell people to type the website themselves", name)
		}
	}
}

func TestPackRefusesLinkInPeopleTemplate(t *testing.T) {
	for _, tmpl := range []string{
		"# Notice of Data Breach\n\nVisit https://{{.Org.Website}} now.\n",
		"# Notice of Data Breach\n\nSee www.acme.example.\n",
	} {
		p := notifyMixpanelPack()
		p.Templates = fstest.MapFS{"people.md.tmpl": {Data: []byte(tmpl)}}
		dir := t.TempDir()
		_, err := WritePack(context.Background(), dir, p)
		if err == nil || !strings.Contains(err.Error(), "URL") {
			t.Errorf("template %q: err = %v, want a refusal naming the URL", tmpl, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("a refused pack left %d files behind", len(entries))
		}
	}
	p := notifyMixpanelPack()
	p.Templates = fstest.MapFS{"people.html.tmpl": {Data: []byte(`{{define "title"}}x{{end}}{{define "body"}}<a href="#top">top</a>{{end}}`)}}
	if _, err := WritePack(context.Background(), t.TempDir(), p); err == nil {
		t.Error("an anchor tag in the people letter was accepted")
	}
}

func TestPackFindURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"type acme.example into your browser", ""},
		{"write to privacy@acme.example", ""},
		{"the http protocol", ""},
		{"go to https://acme.example", "https://"},
		{"go to HTTP://acme.example", "HTTP://"},
		{"ftp://files.example", "ftp://"},
		{"see www.acme.example", "www."},
		{"mailto:privacy@acme.example", "mailto:"},
		{"javascript:alert(1)", "javascript:"},
		{`<a href="#x">x</a>`, "<a "},
		{`<p><a>x</a>`, "<a>"},
		{`<span href=x>`, "href="},
		{"https:acme.example", "https:"},
	} {
		if got := FindURL(tc.in); got != tc.want {
			t.Errorf("FindURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPackWebsiteAndDefang(t *testing.T) {
	for in, want := range map[string]string{
		"acme.example":                       "acme.example",
		"https://www.acme.example/help?x=1":  "acme.example",
		"HTTP://WWW.Acme.Example":            "Acme.Example",
		"  www.www.acme.example/ ":           "acme.example",
		"acme.example#privacy":               "acme.example",
		"https://acme.example:8443/whatever": "acme.example:8443",
	} {
		if got := packWebsiteText(in); got != want {
			t.Errorf("packWebsiteText(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Mixpanel":                         "Mixpanel",
		"https://evil.example/login":       "evil.example/login",
		"hxxps://x hTTps://www.y.example":  "x y.example",
		"<script>alert(1)</script>":        "‹script›alert(1)‹/script›",
		"mailto:a@b.example":               "a@b.example",
		"httphttp://://x":                  "x",
		"line one\nline two":               "line one line two",
		"javascript:javascript:alert(1)":   "alert(1)",
		"see www.www.example.com for more": "see example.com for more",
	} {
		if got := packDefang(in); got != want {
			t.Errorf("packDefang(%q) = %q, want %q", in, got, want)
		}
		if m := FindURL(packDefang(in)); m != "" {
			t.Errorf("packDefang(%q) still has a URL: %q", in, m)
		}
	}
}

// notifyHostilePack has markup in every field a person can type.
func notifyHostilePack() Pack {
	p := notifyMixpanelPack()
	const x = `<script>alert("x")</script>`
	p.Vendor = "Evil " + x + " & Co"
	p.Affected = []string{p.Vendor, "Segment <img src=x onerror=alert(1)>"}
	p.Incident.Title = "Title " + x + "\n# injected heading"
	p.Incident.Notes = "note " + x + "\n| a | b |\n[link](javascript:alert(1))"
	p.Incident.Owner = x
	p.Profile.Name = "Acme " + x
	p.Profile.Contact = "<b>bold</b>"
	p.Profile.DPO = "dpo " + x
	p.Systems = []string{"web " + x}
	p.Duties = append(p.Duties, DutyLine{Rule: x, Regime: "|", Audience: x, Deadline: "`code`", Status: "*open*", Citation: "[c](javascript:x)"})
	p.Timeline = append(p.Timeline, Event{ID: "z", At: notifyTime("2025-11-26T10:00:00Z"), Actor: x, Kind: "note", Message: "msg " + x + " | pipe"})
	return p
}

func TestPackEscapesHostileText(t *testing.T) {
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, notifyHostilePack()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{PackRegulatorHTM, PackPeopleHTM, PackInternalHTM} {
		s := notifyRead(t, dir, name)
		for _, bad := range []string{"<script", "<img", "<b>", "onerror=alert(1)>"} {
			if strings.Contains(strings.ToLower(s), bad) {
				t.Errorf("%s contains raw %q", name, bad)
			}
		}
		if name != PackPeopleHTM && !strings.Contains(s, "&lt;script&gt;") {
			t.Errorf("%s does not show the hostile text escaped", name)
		}
		if name == PackPeopleHTM && !strings.Contains(s, "‹script›") {
			t.Errorf("%s does not show the hostile text defanged", name)
		}
	}
	for _, name := range []string{PackRegulatorMD, PackPeopleMD, PackInternalMD, PackTimelineMD, PackReadme} {
		s := notifyRead(t, dir, name)
		// An unescaped "<" starting a tag, or a Markdown link, would be
		// rendered by a Markdown viewer.
		if m := regexp.MustCompile(`(^|[^\\])<(script|img|b)\b`).FindString(s); m != "" {
			t.Errorf("%s contains an unescaped tag %q", name, m)
		}
		if regexp.MustCompile(`[^\\]\]\(javascript`).MatchString(s) {
			t.Errorf("%s contains a Markdown link", name)
		}
		if strings.Contains(s, "\n# injected") {
			t.Errorf("%s lets a title start a heading", name)
		}
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, "| ") && strings.Contains(line, "pipe") {
				// The event row must keep its five cells: escaped pipes
				// are not cell boundaries.
				if n := strings.Count(line, "|") - strings.Count(line, `\|`); n != 6 && n != 5 {
					t.Errorf("%s: table row has %d cell borders: %s", name, n, line)
				}
			}
		}
	}
}

func TestPackHTMLIsSelfContained(t *testing.T) {
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, notifyMixpanelPack()); err != nil {
		t.Fatal(err)
	}
	external := regexp.MustCompile(`(?i)\bsrc\s*=|\bhref\s*=|url\(|@import|<link|<script|<img|<iframe|<object`)
	for _, name := range []string{PackRegulatorHTM, PackPeopleHTM, PackInternalHTM} {
		s := notifyRead(t, dir, name)
		if m := external.FindString(s); m != "" {
			t.Errorf("%s loads or links something: %q", name, m)
		}
		if !strings.HasPrefix(s, "<!DOCTYPE html>") || !strings.Contains(s, "<style>") || !strings.HasSuffix(s, "</html>\n") {
			t.Errorf("%s is not a complete page with inline CSS", name)
		}
	}
}

func TestPackLetterContents(t *testing.T) {
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, notifyMixpanelPack()); err != nil {
		t.Fatal(err)
	}
	people := notifyRead(t, dir, PackPeopleMD)
	// California's title and headings, in order.
	at := -1
	for _, h := range []string{"# Notice of Data Breach", "## What Happened", "## What Information Was Involved", "## What We Are Doing", "## What You Can Do", "## For More Information"} {
		i := strings.Index(people, h+"\n")
		if i < 0 || i < at {
			t.Errorf("people letter: heading %q missing or out of order", h)
		}
		at = i
	}
	peopleHTML := notifyRead(t, dir, PackPeopleHTM)
	for _, h := range []string{"<title>Notice of Data Breach</title>", "<h2>What Happened</h2>", "<h2>What Information Was Involved</h2>", "<h2>What We Are Doing</h2>", "<h2>What You Can Do</h2>", "<h2>For More Information</h2>"} {
		if !strings.Contains(peopleHTML, h) {
			t.Errorf("people.html lacks %q", h)
		}
	}
	if !regexp.MustCompile(`font-size: 1[0-9]pt`).MatchString(peopleHTML) {
		t.Error("people.html does not set a type size of at least 10 points")
	}
	for _, want := range []string{
		// Categories in human words (taxonomy names).
		"**Name**", "**Email address**", "**Coarse location**", "**Browser and device**", "**Unique id**", "**Referrer and campaign**",
		"9 November 2025", "25 November 2025", "Mixpanel",
		"did not include passwords or other credentials, payment card or bank details",
		"you do not need to change your password",
		// Phishing advice specific to the categories.
		"never ask for your password, API key",
		"uses your name is not proof",
		"your city, the browser or device",
		"privacy@acme.example", "dpo@acme.example",
	} {
		if !strings.Contains(people, want) {
			t.Errorf("people letter lacks %q", want)
		}
	}
	for _, bad := range []string{"user.contact.email", "weaklink extension", "smishing", "SMS"} {
		if strings.Contains(people, bad) {
			t.Errorf("people letter contains %q (jargon, or advice for data not exposed)", bad)
		}
	}

	reg := notifyRead(t, dir, PackRegulatorMD)
	for _, want := range []string{
		"DRAFT", "not legal advice", "Article 33",
		"Approximate number of data subjects:** 5", "Approximate number of personal data records:** 18",
		"dpo@acme.example", "Likely consequences", "Measures taken or proposed",
		"the 72 hours end on 2025-11-28 18:00 UTC", "16 days 18 hours", "lead supervisory authority for our main establishment in IE",
		"| Email address | user.contact.email |",
	} {
		if !strings.Contains(reg, want) {
			t.Errorf("regulator letter lacks %q", want)
		}
	}
	internal := notifyRead(t, dir, PackInternalMD)
	for _, want := range []string{
		"Not legal advice", "| gdpr-art33 | GDPR | Lead supervisory authority (IE) | 2025-11-28 18:00 UTC | open |",
		"People affected: **5**", "| US-CA | 2 |", "| unknown | 1 |", "14 days 18 hours late",
		"- [ ] Meet: gdpr-art33", "Decide whether the breach is likely to result in a high risk",
		"Find out where the 1 person of unknown residence lives",
	} {
		if !strings.Contains(internal, want) {
			t.Errorf("internal brief lacks %q", want)
		}
	}
	for _, bad := range []string{"Meet: us-ca-1798.82", "Meet: contract-notice"} {
		if strings.Contains(internal, bad) {
			t.Errorf("internal brief lists a closed duty as open: %q", bad)
		}
	}
	readme := notifyRead(t, dir, PackReadme)
	for _, f := range PackFiles {
		if !strings.Contains(readme, "| "+f.Name+" |") {
			t.Errorf("README does not list %s", f.Name)
		}
	}
	if !strings.Contains(readme, "not legal advice") {
		t.Error("README does not say it is not legal advice")
	}
}

func TestPackRecipientsCSV(t *testing.T) {
	p := notifyMixpanelPack()
	hostile := []string{"=HYPERLINK(\"x\")", "+1+1", "-2", "@SUM(A1)", "\tTAB", "\rCR", "plain", "a=b"}
	p.Recipients = func(yield func(PackRecipient) error) error {
		for _, s := range hostile {
			if err := yield(PackRecipient{Subject: s, Jurisdiction: "=cmd", Categories: []string{"user.unique_id", "user.contact.email"}}); err != nil {
				return err
			}
		}
		return nil
	}
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, p); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, PackRecipients))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "subject,external_id,jurisdiction,categories,first_seen,last_seen" {
		t.Errorf("header = %s", got)
	}
	if len(rows) != len(hostile)+1 {
		t.Fatalf("%d rows, want %d", len(rows), len(hostile)+1)
	}
	for i, s := range hostile {
		row := rows[i+1]
		want := s
		if strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			want = "'" + s
		}
		if row[0] != want {
			t.Errorf("subject %q written as %q, want %q", s, row[0], want)
		}
		if row[1] != "" {
			t.Errorf("external id written as %q", row[1])
		}
		if row[2] != "'=cmd" {
			t.Errorf("jurisdiction written as %q", row[2])
		}
		if row[3] != "user.contact.email;user.unique_id" {
			t.Errorf("categories written as %q, want sorted and ;-separated", row[3])
		}
		if row[4] != "" || row[5] != "" {
			t.Errorf("zero times written as %q, %q", row[4], row[5])
		}
	}
}

// TestPackRecipientsStream streams many recipients through a generator that
// never materialises them, and checks the counts reach the letters.
func TestPackRecipientsStream(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large recipient list")
	}
	const n = 200_000
	p := notifyMixpanelPack()
	p.Exposure.Subjects = n
	p.Recipients = func(yield func(PackRecipient) error) error {
		cats := []string{"user.contact.email", "user.unique_id"}
		for i := range n {
			if err := yield(PackRecipient{Subject: "u_" + fmt.Sprint(i), Jurisdiction: "DE", Categories: cats}); err != nil {
				return err
			}
		}
		return nil
	}
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, PackRecipients))
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(b, []byte("\n")); lines != n+1 {
		t.Errorf("recipients.csv has %d lines, want %d", lines, n+1)
	}
	if reg := notifyRead(t, dir, PackRegulatorMD); !strings.Contains(reg, "records:** 400,000") {
		t.Error("regulator letter does not count 400,000 records")
	}
}

func TestPackRecipientErrorKeepsPreviousPack(t *testing.T) {
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, notifyMixpanelPack()); err != nil {
		t.Fatal(err)
	}
	before := notifyRead(t, dir, PackRegulatorMD)

	p := notifyMixpanelPack()
	p.Incident.Title = "Changed title"
	p.Incident.UpdatedAt = p.Incident.UpdatedAt.Add(time.Hour)
	boom := errors.New("database went away")
	p.Recipients = func(yield func(PackRecipient) error) error {
		if err := yield(PackRecipient{Subject: "u_1"}); err != nil {
			return err
		}
		return boom
	}
	if _, err := WritePack(context.Background(), dir, p); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the stream's error", err)
	}
	if after := notifyRead(t, dir, PackRegulatorMD); after != before {
		t.Error("a failed write changed the previous pack")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(PackFiles) {
		t.Errorf("a failed write left %d entries, want %d", len(entries), len(PackFiles))
	}
}

func TestPackContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := notifyMixpanelPack()
	p.Recipients = func(yield func(PackRecipient) error) error {
		for i := 0; ; i++ {
			if i == 10 {
				cancel()
			}
			if err := yield(PackRecipient{Subject: fmt.Sprint(i)}); err != nil {
				return err
			}
		}
	}
	dir := t.TempDir()
	if _, err := WritePack(ctx, dir, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a cancelled pack left %d files", len(entries))
	}
}

func TestPackOverwritePolicy(t *testing.T) {
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, notifyMixpanelPack()); err != nil {
		t.Fatal(err)
	}
	// A previous pack is replaced.
	p := notifyMixpanelPack()
	p.Incident.Title = "Second title"
	if _, err := WritePack(context.Background(), dir, p); err != nil {
		t.Fatalf("rewriting a pack: %v", err)
	}
	if !strings.Contains(notifyRead(t, dir, PackInternalMD), "Second title") {
		t.Error("the pack was not replaced")
	}
	// A folder with anything else is refused, and left alone.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WritePack(context.Background(), dir, notifyMixpanelPack()); !errors.Is(err, ErrPackDirNotEmpty) {
		t.Fatalf("err = %v, want ErrPackDirNotEmpty", err)
	}
	if !strings.Contains(notifyRead(t, dir, PackInternalMD), "Second title") {
		t.Error("a refused write changed the pack")
	}
	// A missing folder is created, nested.
	nested := filepath.Join(t.TempDir(), "a", "b")
	if _, err := WritePack(context.Background(), nested, notifyMixpanelPack()); err != nil {
		t.Fatal(err)
	}
	// A pack-named directory is not a previous pack.
	odd := t.TempDir()
	if err := os.Mkdir(filepath.Join(odd, PackReadme), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := WritePack(context.Background(), odd, notifyMixpanelPack()); !errors.Is(err, ErrPackDirNotEmpty) {
		t.Errorf("err = %v, want ErrPackDirNotEmpty", err)
	}
}

func TestPackTemplateOverride(t *testing.T) {
	p := notifyMixpanelPack()
	p.Templates = fstest.MapFS{
		"internal.md.tmpl": {Data: []byte("Custom brief for {{.Vendor}}: {{num .Subjects}} people.\n")},
	}
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, p); err != nil {
		t.Fatal(err)
	}
	if got := notifyRead(t, dir, PackInternalMD); got != "Custom brief for Mixpanel: 5 people.\n" {
		t.Errorf("override not used: %q", got)
	}
	if got := notifyRead(t, dir, PackPeopleMD); !strings.HasPrefix(got, "# Notice of Data Breach") {
		t.Error("a file the override lacks did not come from the defaults")
	}
	p.Templates = fstest.MapFS{"regulator.md.tmpl": {Data: []byte("{{.NoSuchField}}")}}
	if _, err := WritePack(context.Background(), t.TempDir(), p); err == nil || !strings.Contains(err.Error(), "regulator.md.tmpl") {
		t.Errorf("a broken template: err = %v, want one naming the template", err)
	}
}

func TestPackEmbeddedTemplatesParse(t *testing.T) {
	entries, err := packTemplates.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"README.md.tmpl", "internal.html.tmpl", "internal.md.tmpl", "layout.html.tmpl", "people.html.tmpl",
		"people.md.tmpl", "regulator.html.tmpl", "regulator.md.tmpl", "timeline.md.tmpl"}
	if !slices.Equal(names, want) {
		t.Errorf("embedded templates = %v, want %v", names, want)
	}
}

// TestPackSparseIncident renders a pack from an incident that knows almost
// nothing yet: no anchors, no categories, no recipients, no duties.
func TestPackSparseIncident(t *testing.T) {
	p := Pack{
		Incident: Incident{ID: "019ab8a2-0000-7000-8000-000000000000", Vendor: "acme-mail", CreatedAt: notifyTime("2025-12-01T10:00:00Z")},
		Profile:  Profile{Name: "Acme Cloud, Inc."},
	}
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, p); err != nil {
		t.Fatal(err)
	}
	people := notifyRead(t, dir, PackPeopleMD)
	for _, want := range []string{"We do not yet know exactly which information was involved", "acme-mail", "1 December 2025", "In general"} {
		if !strings.Contains(people, want) {
			t.Errorf("sparse people letter lacks %q", want)
		}
	}
	if strings.Contains(people, "No passwords were involved") {
		t.Error("a letter that knows no categories claims no passwords were involved")
	}
	internal := notifyRead(t, dir, PackInternalMD)
	for _, want := range []string{"Record when we became aware", "No duties were computed", "Recipient list: not produced", "No events recorded yet"} {
		if !strings.Contains(internal, want) {
			t.Errorf("sparse internal brief lacks %q", want)
		}
	}
	if _, err := WritePack(context.Background(), t.TempDir(), Pack{Incident: Incident{Vendor: "x"}}); err == nil {
		t.Error("a pack without an incident id was accepted")
	}
}

// TestPackSubprocessor: the breach is at a subprocessor of two of our
// vendors.
func TestPackSubprocessor(t *testing.T) {
	p := notifyMixpanelPack()
	p.Vendor = "CloudStore"
	p.Incident.Vendor = "cloudstore"
	p.Affected = []string{"Segment", "Intercom"}
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, p); err != nil {
		t.Fatal(err)
	}
	people := notifyRead(t, dir, PackPeopleMD)
	if !strings.Contains(people, "CloudStore, a company used by our service providers Segment and Intercom, discovered") {
		t.Errorf("people letter does not explain the subprocessor:\n%s", people)
	}
	var bundle struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal([]byte(notifyRead(t, dir, PackSTIX)), &bundle); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range bundle.Objects {
		if o["type"] == "identity" {
			names = append(names, o["name"].(string))
		}
	}
	if !slices.Equal(names, []string{"Acme Cloud, Inc.", "CloudStore", "Segment", "Intercom"}) {
		t.Errorf("identities = %v", names)
	}
}

func TestPackTimelineJSON(t *testing.T) {
	p := notifyMixpanelPack()
	slices.Reverse(p.Timeline) // out of order on input
	dir := t.TempDir()
	if _, err := WritePack(context.Background(), dir, p); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Incident string  `json:"incident"`
		Events   []Event `json:"events"`
		Times    []struct {
			Anchor Anchor    `json:"anchor"`
			At     time.Time `json:"at"`
		} `json:"times"`
	}
	if err := json.Unmarshal([]byte(notifyRead(t, dir, PackTimelineJSON)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Incident != p.Incident.ID || len(doc.Events) != len(p.Timeline) {
		t.Fatalf("timeline.json: incident %q, %d events", doc.Incident, len(doc.Events))
	}
	if !slices.IsSortedFunc(doc.Events, func(a, b Event) int { return a.At.Compare(b.At) }) {
		t.Error("events are not in time order")
	}
	if len(doc.Times) != 4 || doc.Times[0].Anchor != AnchorVendorDiscovered {
		t.Errorf("times = %+v", doc.Times)
	}
	if got := doc.Events[3].Changes["status"]; got != [2]string{"triage", "investigating"} {
		t.Errorf("changes = %v", got)
	}
}

func TestPhishingGuidance(t *testing.T) {
	topics := func(cats ...string) []string {
		var out []string
		for _, a := range PhishingGuidance(cats, "Acme", "Mixpanel") {
			out = append(out, a.Topic)
		}
		return out
	}
	for _, tc := range []struct {
		cats []string
		want []string
	}{
		{nil, []string{"In general"}},
		{[]string{"user.contact.email"}, []string{"Emails", "In general"}},
		{[]string{"user.contact"}, []string{"Emails", "Text messages and calls", "Post", "Your workplace", "In general"}},
		{[]string{"user.name.first"}, []string{"Your name", "In general"}},
		{[]string{"user.device.user_agent", "user.behavior.referrer"}, []string{"Details about your location, browser and device", "In general"}},
		{[]string{"user.contact.phone_number"}, []string{"Text messages and calls", "In general"}},
		{[]string{"user.authorization.credentials"}, []string{"Passwords and keys", "In general"}},
		{[]string{"user.financial.credit_card"}, []string{"Payment cards and bank accounts", "In general"}},
		{[]string{"user.government_id.national_identification_number"}, []string{"Identity numbers", "In general"}},
		{[]string{"system.operations"}, []string{"In general"}},
	} {
		if got := topics(tc.cats...); !slices.Equal(got, tc.want) {
			t.Errorf("PhishingGuidance(%v) topics = %v, want %v", tc.cats, got, tc.want)
		}
	}
	for _, a := range PhishingGuidance([]string{"user"}, "Acme", "Mixpanel") {
		for _, p := range a.Points {
			if strings.Contains(p, "{") || FindURL(p) != "" {
				t.Errorf("advice %q: unfilled placeholder or URL", p)
			}
		}
	}
	email := strings.Join(PhishingGuidance([]string{"user.contact.email"}, "Acme", "Mixpanel")[0].Points, " ")
	for _, want := range []string{"Acme", "Mixpanel", "never ask for your password, API key", "typing our website name into your browser yourself"} {
		if !strings.Contains(email, want) {
			t.Errorf("email advice lacks %q", want)
		}
	}
	if got := LikelyConsequences([]string{"user.contact.email"}, "Acme", "Mixpanel"); len(got) != 1 || !strings.Contains(got[0], "phishing") {
		t.Errorf("LikelyConsequences = %v", got)
	}
}

func TestPackMarkdownEscape(t *testing.T) {
	for in, want := range map[string]string{
		"Acme Cloud, Inc.":     "Acme Cloud, Inc.",
		"<script>":             `\<script\>`,
		"a|b":                  `a\|b`,
		"[x](y)":               `\[x\](y)`,
		"# head":               `\# head`,
		"- item":               `\- item`,
		"12. item":             `12\. item`,
		"*bold* `code` \\":     `\*bold\* \` + "`code\\` " + `\\`,
		"two\nlines\r\n\tok":   "two lines   ok",
		"user.contact.email":   "user.contact.email",
		"bell\x07 and \x7fdel": "bell and del",
	} {
		if got := packMDEscape(in); got != want {
			t.Errorf("packMDEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPackFormatting(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 5: "5", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := packNum(in); got != want {
			t.Errorf("packNum(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[time.Duration]string{
		time.Hour: "1 hour", 5 * time.Hour: "5 hours", 24 * time.Hour: "1 day",
		16 * 24 * time.Hour: "16 days", 14*24*time.Hour + 18*time.Hour + 30*time.Minute: "14 days 18 hours",
	} {
		if got := packDuration(in); got != want {
			t.Errorf("packDuration(%v) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct {
		items []string
		conj  string
		want  string
	}{
		{nil, "and", ""},
		{[]string{"a"}, "and", "a"},
		{[]string{"a", "b"}, "or", "a or b"},
		{[]string{"a", "b", "c"}, "and", "a, b and c"},
		{[]string{"a", "b or c", "d"}, "or", "a, b or c, or d"},
	} {
		if got := packJoin(tc.items, tc.conj); got != tc.want {
			t.Errorf("packJoin(%q, %s) = %q, want %q", tc.items, tc.conj, got, tc.want)
		}
	}
}

// BenchmarkPackRecipients measures the recipient stream, the only part of
// a pack that grows with the breach.
func BenchmarkPackRecipients(b *testing.B) {
	cats := []string{"user.contact.email", "user.unique_id", "user.name"}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		w := bufio.NewWriter(&buf)
		_, err := packWriteRecipients(context.Background(), w, func(yield func(PackRecipient) error) error {
			for i := range 10_000 {
				if err := yield(PackRecipient{Subject: "u_" + fmt.Sprint(i), Jurisdiction: "DE", Categories: cats}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		_ = w.Flush()
	}
}
