package incident

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestEmbeddedRules validates the embedded rules files and checks the set
// against the reference facts they were written from.
func TestEmbeddedRules(t *testing.T) {
	rs, err := LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs.All() {
		ids = append(ids, r.ID)
		if r.Verified == "" || r.Citation == "" || r.Rationale == "" {
			t.Errorf("%s: verified, citation and rationale are required", r.ID)
		}
		if !strings.HasPrefix(r.Source(), "rules/") {
			t.Errorf("%s: source %q", r.ID, r.Source())
		}
		if _, ok := anchorWords[r.Anchor]; !ok {
			t.Errorf("%s: anchor %q has no words", r.ID, r.Anchor)
		}
	}
	want := []string{
		"au-ndb-assessment", "au-ndb-individuals", "au-ndb-oaic", "br-lgpd-anpd", "br-lgpd-subjects",
		"contract-vendor-notice", "gdpr-art33", "gdpr-art33-record", "gdpr-art34",
		"hipaa-business-associate", "hipaa-individuals", "nydfs-500-17",
		"pipeda-individuals", "pipeda-opc", "pipeda-record", "sec-8k-item-1-05",
		"uk-gdpr-art33", "uk-gdpr-art33-record", "uk-gdpr-art34",
		"us-al", "us-az", "us-ca", "us-co", "us-ct", "us-de", "us-fl", "us-fl-third-party-agent",
		"us-in", "us-la", "us-md", "us-me", "us-nm", "us-ny", "us-oh", "us-or", "us-other-states",
		"us-ri", "us-sd", "us-tn", "us-tx", "us-vt", "us-wa", "us-wi",
	}
	if !slices.Equal(ids, want) {
		t.Errorf("rule ids\n got %q\nwant %q", ids, want)
	}
	if DefaultRules().Len() != len(want) {
		t.Errorf("DefaultRules has %d rules", DefaultRules().Len())
	}

	// Every state with a fixed limit in the reference table, with its days.
	stateDays := map[string]int{
		"AL": 45, "AZ": 45, "CA": 30, "CO": 30, "CT": 60, "DE": 60, "FL": 30, "IN": 45, "LA": 60, "ME": 30, "MD": 45,
		"NM": 45, "NY": 30, "OH": 45, "OR": 45, "RI": 45, "SD": 60, "TN": 45, "TX": 60, "VT": 45, "WA": 30, "WI": 45,
	}
	var states []string
	for st, days := range stateDays {
		r, ok := rs.Get("us-" + strings.ToLower(st))
		if !ok {
			t.Errorf("no rule for US-%s", st)
			continue
		}
		states = append(states, "US-"+st)
		if r.Deadline.Days != days || !slices.Equal(r.Jurisdictions, []string{"US-" + st}) || r.Notifies != RecipientIndividuals {
			t.Errorf("us-%s: days %d jurisdictions %v notifies %s; want %d days", strings.ToLower(st), r.Deadline.Days, r.Jurisdictions, r.Notifies, days)
		}
	}
	// The residual rule covers every other state.
	other, _ := rs.Get("us-other-states")
	slices.Sort(states)
	if !other.Residual || !slices.Equal(other.except, states) {
		t.Errorf("us-other-states except %v, want %v", other.except, states)
	}

	// Spot checks of the clocks the brief names.
	checks := []struct {
		id       string
		anchor   Anchor
		hours    int
		days     int
		business int
		harm     Harm
	}{
		{"gdpr-art33", AnchorAware, 72, 0, 0, HarmRisk},
		{"gdpr-art34", AnchorAware, 0, 0, 0, HarmHighRisk},
		{"uk-gdpr-art33", AnchorAware, 72, 0, 0, HarmRisk},
		{"hipaa-individuals", AnchorDiscovered, 0, 60, 0, HarmRisk},
		{"sec-8k-item-1-05", AnchorMaterial, 0, 0, 4, HarmMaterial},
		{"nydfs-500-17", AnchorDetermined, 72, 0, 0, HarmNone},
		{"au-ndb-assessment", AnchorAware, 0, 30, 0, HarmNone},
		{"br-lgpd-anpd", AnchorAware, 0, 0, 3, HarmHighRisk},
		{"us-tx", AnchorDetermined, 0, 60, 0, HarmNone},
		{"us-ca", AnchorDiscovered, 0, 30, 0, HarmNone},
		{"contract-vendor-notice", AnchorVendorDiscovered, 0, 0, 0, HarmNone},
	}
	for _, c := range checks {
		r, ok := rs.Get(c.id)
		if !ok {
			t.Errorf("no rule %s", c.id)
			continue
		}
		if r.Anchor != c.anchor || r.Deadline.Hours != c.hours || r.Deadline.Days != c.days ||
			r.Deadline.BusinessDays != c.business || r.Triggers.Harm != c.harm {
			t.Errorf("%s: anchor %s hours %d days %d business %d harm %s", c.id, r.Anchor,
				r.Deadline.Hours, r.Deadline.Days, r.Deadline.BusinessDays, r.Triggers.Harm)
		}
	}
	if sec, _ := rs.Get("sec-8k-item-1-05"); sec.Deadline.loc != USFederalLocation() {
		t.Errorf("SEC business days counted in %s", sec.Deadline.loc)
	}
	if br, _ := rs.Get("br-lgpd-anpd"); br.Deadline.loc.String() != "America/Sao_Paulo" || br.Deadline.cal.holidays {
		t.Errorf("LGPD calendar %+v in %s", br.Deadline.cal, br.Deadline.loc)
	}
	if c, _ := rs.Get("contract-vendor-notice"); !c.Deadline.ContractHours || c.FulfilledBy != AnchorVendorNotified {
		t.Errorf("contract rule %+v", c)
	}
	if _, ok := rs.Get("nope"); ok {
		t.Error("Get(nope) found a rule")
	}
}

func TestKnownJurisdiction(t *testing.T) {
	for _, code := range []string{"*", "EU", "GB", "DE", "US", "US-CA", "US-DC", "US-PR", "CA", "CA-QC", "AU", "BR", "XK"} {
		if !KnownJurisdiction(code) {
			t.Errorf("%s is not known", code)
		}
	}
	for _, code := range []string{"", "UK", "EL", "US-XX", "CA-XX", "us-ca", "EUR", "AU-NSW"} {
		if KnownJurisdiction(code) {
			t.Errorf("%s is known", code)
		}
	}
	if n := len(strings.Fields(iso3166)); n != 250 {
		t.Errorf("%d country codes, want 249 ISO codes + XK", n)
	}
	if len(EEAMembers) != 30 {
		t.Errorf("%d EEA members, want 27 + 3", len(EEAMembers))
	}
}

// minimal is a valid rules file that the error cases below break one field
// at a time.
const minimal = `version: 1
rules:
  - id: test-rule
    regime: Test
    title: A test rule
    audience: nobody
    notifies: authority
    jurisdictions: [GB]
    anchor: aware
    deadline:
      hours: 72
    triggers:
      harm: none
    citation: none
    verified: 2026-12-04
    rationale: for tests
`

func TestParseRulesErrors(t *testing.T) {
	if _, err := ParseRules("ok.yaml", []byte(minimal)); err != nil {
		t.Fatalf("minimal: %v", err)
	}
	tests := []struct {
		name, from, to string
		want           string // substring of the error
	}{
		{"unknown field", "    citation: none\n", "    citation: none\n    cite: x\n", "x.yaml:15:5: rules[0].cite: unknown field"},
		{"unknown nested field", "      hours: 72\n", "      hours: 72\n      hour: 1\n", "x.yaml:12:7: rules[0].deadline.hour: unknown field (did you mean \"hours\"?)"},
		{"bad anchor", "anchor: aware", "anchor: discovery", `x.yaml:9:13: rules[0].anchor: unknown anchor "discovery"`},
		{"missing anchor", "    anchor: aware\n", "", "rules[0]: anchor is required"},
		{"bad fulfilled_by", "    anchor: aware\n", "    anchor: aware\n    fulfilled_by: told\n", `x.yaml:10:19: rules[0].fulfilled_by: unknown anchor "told"`},
		{"unknown jurisdiction", "[GB]", "[UK]", `x.yaml:8:21: rules[0].jurisdictions[0]: unknown jurisdiction "UK"`},
		{"star not alone", "[GB]", `[GB, "*"]`, `rules[0].jurisdictions[1]: "*" (anywhere) stands alone`},
		{"no jurisdictions", "    jurisdictions: [GB]\n", "", "rules[0]: jurisdictions is required"},
		{"unknown category", "      harm: none\n", "      harm: none\n      categories: [{all_of: [user.name, user.nmae]}]\n",
			`x.yaml:14:41: rules[0].triggers.categories[0].all_of[1]: unknown data category "user.nmae" (did you mean "user.name"?)`},
		{"empty category set", "      harm: none\n", "      harm: none\n      categories: [{label: x}]\n", "rules[0].triggers.categories[0]: a category set needs all_of or any_of"},
		{"unknown profile condition", "      harm: none\n", "      harm: none\n      profile: [public]\n", `rules[0].triggers.profile[0]: unknown profile condition "public"`},
		{"bad harm", "harm: none", "harm: severe", `x.yaml:13:13: rules[0].triggers.harm: harm "severe" is not one of none, risk, high_risk, material`},
		{"missing harm", "      harm: none\n", "      harm_text: x\n", "rules[0].triggers: harm is required"},
		{"bad notifies", "notifies: authority", "notifies: regulator", `rules[0].notifies: notifies "regulator" is not one of`},
		{"two periods", "      hours: 72\n", "      hours: 72\n      days: 3\n", "x.yaml:11:7: rules[0].deadline: give one of hours, days, business_days or contract_hours"},
		{"no period", "      hours: 72\n", "      calendar: us-federal\n", "rules[0].deadline: a deadline needs hours, days"},
		{"negative", "hours: 72", "hours: -1", "rules[0].deadline.hours: hours cannot be negative"},
		{"too long", "hours: 72", "hours: 1000000", "rules[0].deadline.hours: hours 1000000 is more than 87840"},
		{"bad calendar", "      hours: 72\n", "      business_days: 3\n      calendar: brazil\n", `x.yaml:12:17: rules[0].deadline.calendar: calendar "brazil" is not one of us-federal, weekends`},
		{"calendar without business days", "      hours: 72\n", "      hours: 72\n      calendar: weekends\n", "rules[0].deadline.calendar: calendar applies to business_days only"},
		{"bad zone", "      hours: 72\n", "      days: 3\n      time_zone: Mars/Olympus\n", `rules[0].deadline.time_zone: time_zone "Mars/Olympus" is not an IANA zone`},
		{"bad id", "id: test-rule", "id: Test_Rule", `rules[0].id: id "Test_Rule" must be a lowercase slug`},
		{"missing title", "    title: A test rule\n", "", "rules[0]: title is required"},
		{"bad verified", "verified: 2026-12-04", "verified: yesterday", `x.yaml:15:15: rules[0].verified: verified "yesterday" must be the date`},
		{"threshold both counts", "    citation: none\n", "    thresholds: [{audience: AG, more_than: 1, at_least: 2}]\n    citation: none\n", "rules[0].thresholds[0]: give more_than or at_least, not both"},
		{"threshold contract hours", "    citation: none\n", "    thresholds: [{audience: AG, deadline: {contract_hours: true}}]\n    citation: none\n", "contract_hours belongs in a rule's deadline"},
		{"threshold jurisdiction", "    citation: none\n", "    thresholds: [{audience: AG, jurisdictions: [US-ZZ]}]\n    citation: none\n", `rules[0].thresholds[0].jurisdictions[0]: unknown jurisdiction "US-ZZ"`},
		{"residual anywhere", "    jurisdictions: [GB]\n", "    jurisdictions: [\"*\"]\n    residual: true\n", `rules[0].residual: a residual rule needs a jurisdiction other than "*"`},
		{"version", "version: 1", "version: 2", "x.yaml:1:10: version: unsupported version 2 (this weaklink reads version 1)"},
		{"no rules", minimal[strings.Index(minimal, "rules:"):], "rules: []\n", "x.yaml:2:8: rules: at least one rule is required"},
		{"type error", "hours: 72", "hours: soon", "x.yaml:11:0: cannot unmarshal !!str `soon` into int"},
		{"invalid YAML", "    rationale: for tests\n", "    rationale: [for tests\n", "x.yaml:"},
		{"empty", minimal, "", `x.yaml: empty rules file: want "version: 1" and rules:`},
		{"not a mapping", minimal, "- 1\n", "x.yaml:1:0: cannot unmarshal !!seq"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(minimal, tt.from) {
				t.Fatalf("test bug: %q not in minimal", tt.from)
			}
			doc := strings.Replace(minimal, tt.from, tt.to, 1)
			_, err := ParseRules("x.yaml", []byte(doc))
			if err == nil {
				t.Fatalf("no error for\n%s", doc)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, tt.want)
			}
		})
	}
}

func TestParseRulesDuplicateAcrossFiles(t *testing.T) {
	_, err := parseRuleFiles([]ruleFile{{"a.yaml", []byte(minimal)}, {"b.yaml", []byte(minimal)}})
	want := `b.yaml:3:9: rules[0].id: duplicate id "test-rule" (first defined at a.yaml:3)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestLoadRulesFileErrors(t *testing.T) {
	_, err := LoadRulesFile(filepath.Join("testdata", "clocks", "bad-override.yaml"))
	if err == nil {
		t.Fatal("no error")
	}
	f := filepath.Join("testdata", "clocks", "bad-override.yaml")
	want := []string{
		f + `:9:25: rules[0].jurisdictions[1]: unknown jurisdiction "US-XX" (want an ISO 3166 code such as GB or US-CA, EU, or *) (did you mean "US-TX"?)`,
		f + `:10:13: rules[0].anchor: unknown anchor "awareness" (want one of incident_start, vendor_discovered, vendor_notified, dataset_received, aware, discovered, determined, materiality_determined, contained, closed)`,
		f + `:15:20: rules[0].triggers.categories[0].any_of[0]: unknown data category "user.contact.emial" (did you mean "user.contact.email"?)`,
		f + `:20:9: rules[1].id: duplicate id "gdpr-art33" (first defined at ` + f + `:4)`,
		f + `:28:7: rules[1].deadline: give one of hours, days, business_days or contract_hours`,
		f + `:31:13: rules[1].triggers.harm: harm "high" is not one of none, risk, high_risk, material`,
		f + `:33:15: rules[1].verified: verified "4 December 2026" must be the date the facts were checked, YYYY-MM-DD`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if _, err := LoadRulesFile(filepath.Join("testdata", "clocks", "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
	if _, err := LoadRulesFile(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no *.yaml rules files") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestLoadRulesFileOverride(t *testing.T) {
	over, err := LoadRulesFile(filepath.Join("testdata", "clocks", "override.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if over.Len() != 2 {
		t.Fatalf("override has %d rules", over.Len())
	}
	// Replacing the embedded set.
	in := &Incident{Times: map[Anchor]time.Time{AnchorAware: time.Date(2025, 11, 25, 18, 0, 0, 0, time.UTC)}}
	ex := Exposure{Categories: []string{"user.contact.email"}, ByJurisdiction: map[string]int64{"DE": 1}}
	now := time.Date(2025, 11, 26, 0, 0, 0, 0, time.UTC)
	ds := Clocks(over, in, ex, Profile{}, now)
	if len(ds) != 2 || ds[0].Rule != "gdpr-art33" || ds[1].Rule != "acme-board" {
		t.Fatalf("duties %v", dutyIDs(ds))
	}
	if want := time.Date(2025, 11, 27, 18, 0, 0, 0, time.UTC); !ds[0].Deadline.Equal(want) {
		t.Errorf("override deadline %s, want %s", ds[0].Deadline, want)
	}
	// 2 US federal business days from Tue 25 Nov 13:00 New York skip
	// Thanksgiving: Wed 26, Fri 28.
	if want := time.Date(2025, 11, 28, 13, 0, 0, 0, USFederalLocation()); !ds[1].Deadline.Equal(want) {
		t.Errorf("board deadline %s, want %s", ds[1].Deadline, want)
	}

	// Amending the embedded set.
	merged := DefaultRules().With(over)
	if merged.Len() != DefaultRules().Len()+1 {
		t.Errorf("merged has %d rules", merged.Len())
	}
	if r, _ := merged.Get("gdpr-art33"); r.Deadline.Hours != 48 || !strings.HasPrefix(r.Source(), "testdata") {
		t.Errorf("gdpr-art33 not replaced: %+v", r)
	}
	if r, _ := DefaultRules().Get("gdpr-art33"); r.Deadline.Hours != 72 {
		t.Error("With changed the default set")
	}
	if r, _ := merged.Get("us-other-states"); len(r.except) != 22 {
		t.Errorf("residual except recomputed wrongly: %v", r.except)
	}

	// A directory of files is read in name order.
	dir := t.TempDir()
	for _, name := range []string{"a.yaml", "b.yaml"} {
		b, _ := fs.ReadFile(rulesFS, "rules/eu.yaml")
		if name == "b.yaml" {
			b, _ = fs.ReadFile(rulesFS, "rules/contract.yaml")
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := LoadRulesFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Len() != 7 {
		t.Errorf("directory: %d rules", rs.Len())
	}
}

func dutyIDs(ds []Duty) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Rule)
	}
	return out
}

// FuzzParseRules feeds arbitrary documents to the parser: it must return
// rules or errors, never panic, and rules it accepts must evaluate.
// The seeds are small on purpose: the fuzzer minimises every new input by
// rerunning it many times, and whole embedded files (25 kB for the US
// states) make that crawl. TestEmbeddedRules covers those files.
func FuzzParseRules(f *testing.F) {
	if b, err := fs.ReadFile(rulesFS, "rules/contract.yaml"); err == nil {
		f.Add(b)
	}
	for _, n := range []string{"override.yaml", "bad-override.yaml"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "clocks", n)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(minimal))
	f.Add([]byte(""))
	f.Add([]byte("version: 1\nrules:\n  - &a {id: x}\n  - *a\n"))
	f.Add([]byte("version: 1\nrules: [{id: a, deadline: {business_days: 2600, calendar: weekends, time_zone: Asia/Tokyo}}]\n"))
	in := &Incident{
		Times: map[Anchor]time.Time{
			AnchorVendorDiscovered: time.Date(2025, 11, 9, 0, 0, 0, 0, time.UTC),
			AnchorVendorNotified:   time.Date(2025, 11, 25, 18, 0, 0, 0, time.UTC),
			AnchorAware:            time.Date(2025, 11, 25, 18, 0, 0, 0, time.UTC),
			AnchorMaterial:         time.Date(2025, 11, 26, 15, 0, 0, 0, time.UTC),
		},
		ContractNoticeHours: 48,
	}
	ex := Exposure{Categories: []string{"user.name", "user.government_id"}, Subjects: 10,
		ByJurisdiction: map[string]int64{"DE": 3, "US-TX": 5, "US": 1, "unknown": 1}}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseRules("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Errorf("error without the file name: %v", err)
			}
			return
		}
		ds := Clocks(rs, in, ex, Profile{PublicCompany: true}, time.Date(2025, 11, 27, 0, 0, 0, 0, time.UTC))
		if len(ds) != rs.Len() {
			t.Errorf("%d duties for %d rules", len(ds), rs.Len())
		}
		SummarizeDuties(ds)
	})
}
