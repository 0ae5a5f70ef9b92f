package incident

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The flag has its own name so that it cannot clash with other golden-file
// tests of this package.
var updateClocks = flag.Bool("update-clocks", false, "rewrite testdata/clocks/*.golden.json")

func utc(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

func ptr[T any](v T) *T { return &v }

// The Mixpanel incident of November 2025, as seen by one of its customers:
// the vendor discovered the export on 9 November and told us (which made us
// aware) on 25 November; the exposed data was names, email addresses, coarse
// location, browser, ids and referrers.
var (
	mixpanelDiscovered = utc(2025, 11, 9, 0, 0)
	mixpanelNotified   = utc(2025, 11, 25, 18, 0)
	mixpanelNow        = utc(2025, 11, 26, 12, 0)
	mixpanelCategories = []string{"user.name", "user.contact.email", "user.location.imprecise",
		"user.device.user_agent", "user.unique_id", "user.behavior.referrer"}
)

func mixpanelIncident(highRisk *bool) *Incident {
	return &Incident{
		ID: "0193a6b2-7c00-7000-8000-000000000001", Vendor: "mixpanel", Title: "Mixpanel smishing export",
		Times: map[Anchor]time.Time{
			AnchorVendorDiscovered: mixpanelDiscovered,
			AnchorVendorNotified:   mixpanelNotified,
			AnchorAware:            mixpanelNotified,
		},
		Categories:          mixpanelCategories,
		ContractNoticeHours: 48,
		HighRisk:            highRisk,
	}
}

func mixpanelExposure() Exposure {
	return Exposure{Categories: mixpanelCategories, Subjects: 12_480,
		ByJurisdiction: map[string]int64{"DE": 4_210, "FR": 2_950, "GB": 3_100, "US-CA": 1_820, "US-TX": 400}}
}

func byRule(t *testing.T, ds []Duty, id string) Duty {
	t.Helper()
	for _, d := range ds {
		if d.Rule == id {
			return d
		}
	}
	t.Fatalf("no duty %s", id)
	return Duty{}
}

// want is what a test checks of one duty; empty fields are not checked.
type want struct {
	rule      string
	applies   Applies
	status    DutyStatus
	deadline  string // RFC 3339, "-" for none
	timeLeft  string // FormatSpan, "-" for none
	lateBy    string
	rationale []string // substrings
	audience  string   // substring
}

func check(t *testing.T, ds []Duty, w want) {
	t.Helper()
	d := byRule(t, ds, w.rule)
	if w.applies != "" && d.Applies != w.applies {
		t.Errorf("%s: applies %s, want %s (%s)", w.rule, d.Applies, w.applies, d.Rationale)
	}
	if w.status != "" && d.Status != w.status {
		t.Errorf("%s: status %s, want %s", w.rule, d.Status, w.status)
	}
	switch {
	case w.deadline == "-" && d.Deadline != nil:
		t.Errorf("%s: deadline %s, want none", w.rule, d.Deadline)
	case w.deadline != "" && w.deadline != "-" && (d.Deadline == nil || d.Deadline.Format(time.RFC3339) != w.deadline):
		t.Errorf("%s: deadline %v, want %s", w.rule, d.Deadline, w.deadline)
	}
	span := func(p *time.Duration) string {
		if p == nil {
			return "-"
		}
		return FormatSpan(*p)
	}
	if w.timeLeft != "" && span(d.TimeLeft) != w.timeLeft {
		t.Errorf("%s: time left %s, want %s", w.rule, span(d.TimeLeft), w.timeLeft)
	}
	if w.lateBy != "" && span(d.LateBy) != w.lateBy {
		t.Errorf("%s: late by %s, want %s", w.rule, span(d.LateBy), w.lateBy)
	}
	for _, s := range w.rationale {
		if !strings.Contains(d.Rationale, s) {
			t.Errorf("%s: rationale %q lacks %q", w.rule, d.Rationale, s)
		}
	}
	if !strings.Contains(d.Audience, w.audience) {
		t.Errorf("%s: audience %q lacks %q", w.rule, d.Audience, w.audience)
	}
}

func TestClocksMixpanel(t *testing.T) {
	ds := Clocks(nil, mixpanelIncident(ptr(false)), mixpanelExposure(), Profile{Name: "Acme"}, mixpanelNow)
	if got := dutyIDs(ds)[:3]; !slices.Equal(got, []string{"contract-vendor-notice", "gdpr-art33", "uk-gdpr-art33"}) {
		t.Errorf("first duties %v", got)
	}
	noElements := "element triggers not met: the exposed data (user.behavior.referrer, user.contact.email, user.device.user_agent, user.location.imprecise, user.name, user.unique_id) includes none of: name + government id number;"
	tests := []want{
		{rule: "gdpr-art33", applies: AppliesYes, status: DutyOpen, deadline: "2025-11-28T18:00:00Z", timeLeft: "2d 6h",
			rationale: []string{"7,160 affected people in EU/EEA (DE 4,210, FR 2,950)", "risk test presumed met", "clock runs from awareness at 2025-11-25T18:00:00Z"},
			audience:  "each member state where affected people live: DE, FR"},
		{rule: "uk-gdpr-art33", applies: AppliesYes, status: DutyOpen, deadline: "2025-11-28T18:00:00Z", timeLeft: "2d 6h",
			rationale: []string{"3,100 affected people in the UK (GB)"}},
		{rule: "gdpr-art33-record", applies: AppliesYes, status: DutyOpen, deadline: "-", timeLeft: "-"},
		{rule: "gdpr-art34", applies: AppliesNo, status: DutyNA, deadline: "-",
			rationale: []string{"assessed as not high risk"}},
		{rule: "uk-gdpr-art34", applies: AppliesNo, status: DutyNA},
		// The vendor promised 48 hours from its discovery (due 11 November
		// 00:00) and told us on 25 November at 18:00: 14 days 18 hours late.
		{rule: "contract-vendor-notice", applies: AppliesYes, status: DutyMissed, deadline: "2025-11-11T00:00:00Z",
			timeLeft: "-", lateBy: "14d 18h",
			rationale: []string{"the contract requires notice within 48 hours of the vendor's discovery",
				"the vendor notified us at 2025-11-25T18:00:00Z: late by 14d 18h"}},
		{rule: "us-ca", applies: AppliesNo, status: DutyNA, deadline: "-",
			rationale: []string{noElements, "1,820 affected people in US-CA"}},
		{rule: "us-tx", applies: AppliesNo, status: DutyNA,
			rationale: []string{noElements, "400 affected people in US-TX"}},
		{rule: "us-other-states", applies: AppliesNo, status: DutyNA,
			rationale: []string{noElements, "no affected people in the US (places without a rule of their own)"}},
		{rule: "us-fl-third-party-agent", applies: AppliesNo},
		{rule: "sec-8k-item-1-05", applies: AppliesNo, status: DutyNA,
			rationale: []string{"profile: not a public company filing with the SEC (public_company is not set)"}},
		{rule: "hipaa-individuals", applies: AppliesNo, rationale: []string{"hipaa_covered is not set"}},
		{rule: "nydfs-500-17", applies: AppliesNo},
		{rule: "pipeda-opc", applies: AppliesNo, rationale: []string{"no affected people in Canada (CA)"}},
		{rule: "au-ndb-assessment", applies: AppliesNo},
		{rule: "br-lgpd-subjects", applies: AppliesNo},
	}
	for _, w := range tests {
		check(t, ds, w)
	}
	// No US state rule applies.
	for _, d := range ds {
		if strings.HasPrefix(d.Rule, "us-") && (d.Applies != AppliesNo || !strings.Contains(d.Rationale, "element triggers not met")) {
			t.Errorf("%s: applies %s: %s", d.Rule, d.Applies, d.Rationale)
		}
	}
	if d := byRule(t, ds, "contract-vendor-notice"); *d.LateBy != 354*time.Hour || !d.FulfilledAt.Equal(mixpanelNotified) {
		t.Errorf("contract: late by %s, fulfilled at %s", d.LateBy, d.FulfilledAt)
	}
	if d := byRule(t, ds, "gdpr-art33"); !d.Deadline.Equal(mixpanelNotified.Add(72*time.Hour)) || *d.TimeLeft != 54*time.Hour ||
		d.Subjects != 7_160 || d.Affected["DE"] != 4_210 || d.Affected["GB"] != 0 {
		t.Errorf("gdpr-art33: %+v", d)
	}

	s := SummarizeDuties(ds)
	if s.IndividualNotice != AppliesNo || s.Headline != Voluntary {
		t.Errorf("summary %+v", s)
	}
	if s.Headline != "no statutory duty to notify individuals applies; voluntary notice recommended" {
		t.Errorf("headline %q", s.Headline)
	}
	if !slices.Equal(s.Others, []string{"contract-vendor-notice", "gdpr-art33", "uk-gdpr-art33", "gdpr-art33-record", "uk-gdpr-art33-record"}) {
		t.Errorf("others %v", s.Others)
	}
	if !slices.Equal(s.Missed, []string{"contract-vendor-notice (late by 14d 18h)"}) || len(s.Overdue) != 0 {
		t.Errorf("missed %v overdue %v", s.Missed, s.Overdue)
	}
	if s.Next == nil || s.Next.Rule != "gdpr-art33" || !s.Next.Deadline.Equal(utc(2025, 11, 28, 18, 0)) {
		t.Errorf("next %+v", s.Next)
	}
	if s.Lines[len(s.Lines)-1] != Disclaimer {
		t.Errorf("lines %q", s.Lines)
	}

	golden(t, "mixpanel", struct {
		Duties  []Duty      `json:"duties"`
		Summary DutySummary `json:"summary"`
	}{ds, s})
}

func TestClocksMixpanelOpenFacts(t *testing.T) {
	// Before anyone assesses the risk, GDPR Art. 34 may apply.
	ds := Clocks(nil, mixpanelIncident(nil), mixpanelExposure(), Profile{PublicCompany: true}, mixpanelNow)
	check(t, ds, want{rule: "gdpr-art34", applies: AppliesUnknown, status: DutyOpen, deadline: "-",
		rationale: []string{"high-risk assessment not recorded"}})
	check(t, ds, want{rule: "sec-8k-item-1-05", applies: AppliesUnknown, status: DutyNotStarted, deadline: "-",
		rationale: []string{"materiality not determined", "clock not started: no materiality_determined time recorded", "profile: a public company"}})
	s := SummarizeDuties(ds)
	if s.IndividualNotice != AppliesUnknown || !slices.Equal(s.IndividualsPossible, []string{"gdpr-art34", "uk-gdpr-art34"}) {
		t.Errorf("summary %+v", s)
	}
	if want := "a statutory duty to notify individuals may apply once open facts are decided: gdpr-art34 (without undue delay after awareness), uk-gdpr-art34 (without undue delay after awareness)"; s.Headline != want {
		t.Errorf("headline %q", s.Headline)
	}
	// Once the risk is assessed as high, notice is required.
	ds = Clocks(nil, mixpanelIncident(ptr(true)), mixpanelExposure(), Profile{}, mixpanelNow)
	check(t, ds, want{rule: "gdpr-art34", applies: AppliesYes, status: DutyOpen, rationale: []string{"assessed as high risk"}})
	if s := SummarizeDuties(ds); s.IndividualNotice != AppliesYes || !strings.HasPrefix(s.Headline, "statutory duty to notify individuals: gdpr-art34") {
		t.Errorf("summary %+v", s)
	}
}

func TestClocksTexas(t *testing.T) {
	aware, determined := utc(2026, 2, 2, 15, 0), utc(2026, 2, 3, 15, 0)
	in := &Incident{Times: map[Anchor]time.Time{AnchorAware: aware, AnchorDetermined: determined}}
	cats := []string{"user.name", "user.contact.email", "user.government_id.drivers_license_number"}
	now := utc(2026, 2, 10, 15, 0)
	tests := []struct {
		name      string
		by        map[string]int64
		subjects  int64
		required  Applies
		text      string
		deadline  string
		usTX      Applies
		txSubject int64
	}{
		{"above threshold", map[string]int64{"US-TX": 1204, "US-CA": 600, "US-GA": 40, "DE": 10}, 1854,
			AppliesYes, "Texas attorney general notice required: 1,204 residents ≥ 250", "2026-03-05T15:00:00Z", AppliesYes, 1204},
		{"exactly 250", map[string]int64{"US-TX": 250}, 250,
			AppliesYes, "Texas attorney general notice required: 250 residents ≥ 250", "2026-03-05T15:00:00Z", AppliesYes, 250},
		{"below threshold", map[string]int64{"US-TX": 249}, 249,
			AppliesNo, "Texas attorney general notice not required: 249 residents < 250", "", AppliesYes, 249},
		{"unknown residence could reach it", map[string]int64{"US-TX": 200, "unknown": 100}, 300,
			AppliesUnknown, "Texas attorney general notice may be required: 200 residents < 250, plus 100 of unknown or wider residence", "2026-03-05T15:00:00Z", AppliesYes, 200},
		{"only a country-level count", map[string]int64{"US": 300}, 300,
			AppliesUnknown, "Texas attorney general notice may be required: 0 residents < 250, plus 300 of unknown or wider residence", "2026-03-05T15:00:00Z", AppliesUnknown, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := Clocks(nil, in, Exposure{Categories: cats, Subjects: tt.subjects, ByJurisdiction: tt.by}, Profile{}, now)
			d := byRule(t, ds, "us-tx")
			if d.Applies != tt.usTX || d.Subjects != tt.txSubject {
				t.Fatalf("us-tx applies %s subjects %d: %s", d.Applies, d.Subjects, d.Rationale)
			}
			// 60 days after the determination, not after awareness.
			if d.Deadline == nil || d.Deadline.Format(time.RFC3339) != "2026-04-04T15:00:00Z" || d.Status != DutyOpen {
				t.Errorf("us-tx deadline %v status %s", d.Deadline, d.Status)
			}
			if len(d.Thresholds) != 1 {
				t.Fatalf("thresholds %+v", d.Thresholds)
			}
			th := d.Thresholds[0]
			if th.Required != tt.required || th.Text != tt.text {
				t.Errorf("threshold %s %q, want %s %q", th.Required, th.Text, tt.required, tt.text)
			}
			got := ""
			if th.Deadline != nil {
				got = th.Deadline.Format(time.RFC3339)
			}
			if got != tt.deadline {
				t.Errorf("threshold deadline %q, want %q", got, tt.deadline)
			}
		})
	}

	ds := Clocks(nil, in, Exposure{Categories: cats, Subjects: 1854,
		ByJurisdiction: map[string]int64{"US-TX": 1204, "US-CA": 600, "US-GA": 40, "DE": 10}}, Profile{}, now)
	check(t, ds, want{rule: "us-tx", applies: AppliesYes, status: DutyOpen, deadline: "2026-04-04T15:00:00Z", timeLeft: "53d",
		rationale: []string{
			"triggered by name + government id number (user.government_id.drivers_license_number, user.name)",
			"1,204 affected people in US-TX;",
			"clock runs from the determination that a breach occurred at 2026-02-03T15:00:00Z"}})
	// California counts from discovery, which defaults to awareness.
	check(t, ds, want{rule: "us-ca", applies: AppliesYes, deadline: "2026-03-04T15:00:00Z",
		rationale: []string{"clock runs from discovery at 2026-02-02T15:00:00Z (recorded as awareness)"}})
	if th := byRule(t, ds, "us-ca").Thresholds; len(th) != 1 || th[0].Text != "California attorney general (sample copy) notice required: 600 residents > 500 (within 15 calendar days of notifying the residents)" {
		t.Errorf("us-ca thresholds %+v", th)
	}
	// Georgia has no rule of its own here: the residual rule applies.
	check(t, ds, want{rule: "us-other-states", applies: AppliesYes, status: DutyOpen, deadline: "-", timeLeft: "-",
		rationale: []string{"40 affected people in the US (places without a rule of their own) (US-GA 40)"}})
	check(t, ds, want{rule: "us-ny", applies: AppliesNo, rationale: []string{"no affected people in US-NY"}})
	s := SummarizeDuties(ds)
	if s.IndividualNotice != AppliesYes || !slices.Equal(s.Individuals, []string{"us-ca", "us-tx", "us-other-states"}) {
		t.Errorf("summary individuals %v", s.Individuals)
	}
	if want := "statutory duty to notify individuals: us-ca (due 2026-03-04T15:00:00Z), us-tx (due 2026-04-04T15:00:00Z), us-other-states (in the most expedient time possible and without unreasonable delay after discovery)"; s.Headline != want {
		t.Errorf("headline\n got %q\nwant %q", s.Headline, want)
	}
	golden(t, "texas", ds)
}

func TestClocksBusinessDays(t *testing.T) {
	ny := USFederalLocation()
	sp := mustZone(t, "America/Sao_Paulo")
	tests := []struct {
		name    string
		in      *Incident
		ex      Exposure
		p       Profile
		now     time.Time
		rule    string
		want    time.Time
		status  DutyStatus
		left    string
		text    string
		thDue   time.Time // first threshold's deadline, if any
		thIndex int
	}{
		{
			// Wednesday 26 November 2025, 10:00 New York. Thanksgiving and
			// the weekend are skipped: due Wednesday 3 December, 10:00.
			name: "SEC over Thanksgiving",
			in: &Incident{Material: ptr(true), Times: map[Anchor]time.Time{
				AnchorAware: utc(2025, 11, 20, 9, 0), AnchorMaterial: utc(2025, 11, 26, 15, 0)}},
			p:    Profile{PublicCompany: true},
			now:  utc(2025, 11, 28, 12, 0),
			rule: "sec-8k-item-1-05", want: time.Date(2025, 12, 3, 10, 0, 0, 0, ny), status: DutyOpen, left: "5d 3h",
			text: "4 business days after the materiality determination (US federal holidays, America/New_York)",
		},
		{
			name: "SEC overdue",
			in: &Incident{Material: ptr(true), Times: map[Anchor]time.Time{
				AnchorMaterial: utc(2025, 11, 26, 15, 0)}},
			p:    Profile{PublicCompany: true},
			now:  utc(2025, 12, 4, 0, 0),
			rule: "sec-8k-item-1-05", want: time.Date(2025, 12, 3, 10, 0, 0, 0, ny), status: DutyOverdue, left: "-9h",
		},
		{
			// Friday 19 December 2025, 17:00 New York: Christmas (Thursday)
			// and New Year's Day (Thursday) are skipped, as are two weekends.
			name: "SEC over Christmas and New Year",
			in: &Incident{Material: ptr(true), Times: map[Anchor]time.Time{
				AnchorMaterial: utc(2025, 12, 19, 22, 0)}},
			p:    Profile{PublicCompany: true},
			now:  utc(2025, 12, 19, 22, 0),
			rule: "sec-8k-item-1-05", want: time.Date(2025, 12, 26, 17, 0, 0, 0, ny), status: DutyOpen, left: "7d",
		},
		{
			// Friday 28 November 2025, 15:00 in São Paulo: Monday, Tuesday,
			// Wednesday.
			name: "LGPD over a weekend",
			in:   &Incident{HighRisk: ptr(true), Times: map[Anchor]time.Time{AnchorAware: utc(2025, 11, 28, 18, 0)}},
			ex:   Exposure{Categories: []string{"user.contact.email"}, ByJurisdiction: map[string]int64{"BR": 3}},
			now:  utc(2025, 11, 29, 18, 0),
			rule: "br-lgpd-anpd", want: time.Date(2025, 12, 3, 15, 0, 0, 0, sp), status: DutyOpen, left: "4d",
			text: "3 business days after awareness (weekends skipped, holidays not modelled, America/Sao_Paulo)",
		},
		{
			// Vermont's attorney general hears within 14 US federal business
			// days of discovery (Monday 17 November 2025, 10:00 New York):
			// Thanksgiving is skipped, so Monday 8 December.
			name: "Vermont preliminary notice",
			in:   &Incident{Times: map[Anchor]time.Time{AnchorAware: utc(2025, 11, 17, 15, 0)}},
			ex: Exposure{Categories: []string{"user.name", "user.government_id.national_identification_number"},
				ByJurisdiction: map[string]int64{"US-VT": 12}},
			now:  utc(2025, 11, 18, 15, 0),
			rule: "us-vt", want: utc(2026, 1, 1, 15, 0), status: DutyOpen, left: "44d",
			thDue: time.Date(2025, 12, 8, 10, 0, 0, 0, ny),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := byRule(t, Clocks(nil, tt.in, tt.ex, tt.p, tt.now), tt.rule)
			if d.Applies != AppliesYes {
				t.Fatalf("applies %s: %s", d.Applies, d.Rationale)
			}
			if d.Deadline == nil || !d.Deadline.Equal(tt.want) || d.Deadline.Location().String() != tt.want.Location().String() {
				t.Errorf("deadline %v, want %s", d.Deadline, tt.want)
			}
			if d.Status != tt.status || FormatSpan(*d.TimeLeft) != tt.left {
				t.Errorf("status %s time left %s, want %s %s", d.Status, FormatSpan(*d.TimeLeft), tt.status, tt.left)
			}
			if tt.text != "" && d.DeadlineText != tt.text {
				t.Errorf("deadline text %q", d.DeadlineText)
			}
			if !tt.thDue.IsZero() {
				th := d.Thresholds[tt.thIndex]
				if th.Deadline == nil || !th.Deadline.Equal(tt.thDue) {
					t.Errorf("threshold %+v, want due %s", th, tt.thDue)
				}
			}
		})
	}
}

func TestClocksStatuses(t *testing.T) {
	ex := Exposure{Categories: []string{"user.contact.email"}, ByJurisdiction: map[string]int64{"DE": 5}}
	tests := []struct {
		name string
		in   *Incident
		now  time.Time
		w    want
	}{
		{"anchor missing", &Incident{}, mixpanelNow,
			want{rule: "gdpr-art33", applies: AppliesUnknown, status: DutyNotStarted, deadline: "-", timeLeft: "-",
				rationale: []string{"clock not started: no aware time recorded"}}},
		{"overdue", &Incident{Times: map[Anchor]time.Time{AnchorAware: utc(2025, 11, 1, 0, 0)}}, utc(2025, 11, 4, 0, 30),
			want{rule: "gdpr-art33", applies: AppliesYes, status: DutyOverdue, deadline: "2025-11-04T00:00:00Z", timeLeft: "-30m"}},
		{"due exactly now", &Incident{Times: map[Anchor]time.Time{AnchorAware: utc(2025, 11, 1, 0, 0)}}, utc(2025, 11, 4, 0, 0),
			want{rule: "gdpr-art33", status: DutyOpen, timeLeft: "0m"}},
		{"contract met", &Incident{ContractNoticeHours: 48, Times: map[Anchor]time.Time{
			AnchorVendorDiscovered: utc(2025, 11, 9, 0, 0), AnchorVendorNotified: utc(2025, 11, 10, 23, 0)}}, mixpanelNow,
			want{rule: "contract-vendor-notice", applies: AppliesYes, status: DutyMet, deadline: "2025-11-11T00:00:00Z",
				timeLeft: "-", lateBy: "-", rationale: []string{"on time"}}},
		{"contract met at the deadline", &Incident{ContractNoticeHours: 24, Times: map[Anchor]time.Time{
			AnchorVendorDiscovered: utc(2025, 11, 9, 0, 0), AnchorVendorNotified: utc(2025, 11, 10, 0, 0)}}, mixpanelNow,
			want{rule: "contract-vendor-notice", status: DutyMet, lateBy: "-"}},
		{"contract without hours", &Incident{Times: map[Anchor]time.Time{AnchorVendorDiscovered: utc(2025, 11, 9, 0, 0)}}, mixpanelNow,
			want{rule: "contract-vendor-notice", applies: AppliesNo, status: DutyNA,
				rationale: []string{"no contractual notice period is recorded (contract_notice_hours is 0)"}}},
		{"contract, vendor discovery unknown", &Incident{ContractNoticeHours: 72, Times: map[Anchor]time.Time{
			AnchorVendorNotified: utc(2025, 11, 25, 18, 0)}}, mixpanelNow,
			want{rule: "contract-vendor-notice", applies: AppliesUnknown, status: DutyNotStarted, deadline: "-"}},
		{"contract running", &Incident{ContractNoticeHours: 72, Times: map[Anchor]time.Time{
			AnchorVendorDiscovered: utc(2025, 11, 25, 0, 0)}}, mixpanelNow,
			want{rule: "contract-vendor-notice", applies: AppliesYes, status: DutyOpen, timeLeft: "1d 12h"}},
		{"contract overdue, vendor silent", &Incident{ContractNoticeHours: 24, Times: map[Anchor]time.Time{
			AnchorVendorDiscovered: utc(2025, 11, 20, 0, 0)}}, mixpanelNow,
			want{rule: "contract-vendor-notice", status: DutyOverdue, timeLeft: "-5d 12h"}},
		{"NYDFS", &Incident{Times: map[Anchor]time.Time{AnchorDetermined: utc(2025, 11, 26, 0, 0)}}, mixpanelNow,
			want{rule: "nydfs-500-17", applies: AppliesYes, deadline: "2025-11-29T00:00:00Z", timeLeft: "2d 12h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Profile{NYDFSCovered: true}
			check(t, Clocks(nil, tt.in, ex, p, tt.now), tt.w)
		})
	}
}

func TestClocksExposure(t *testing.T) {
	aware := map[Anchor]time.Time{AnchorAware: utc(2025, 11, 25, 18, 0)}
	tests := []struct {
		name string
		in   *Incident
		ex   Exposure
		p    Profile
		w    want
	}{
		{"residence unknown", &Incident{Times: aware}, Exposure{Categories: []string{"user.name"}},
			Profile{}, want{rule: "gdpr-art33", applies: AppliesUnknown, status: DutyOpen,
				rationale: []string{"where the affected people live is not known"}}},
		{"some residence unknown", &Incident{Times: aware}, Exposure{Categories: []string{"user.name"}, Subjects: 10,
			ByJurisdiction: map[string]int64{"DE": 4}}, Profile{},
			want{rule: "uk-gdpr-art33", applies: AppliesUnknown, rationale: []string{"but 6 of unknown or wider residence may live there"}}},
		{"categories from the incident", &Incident{Times: aware, Categories: []string{"user.contact.email"}},
			Exposure{ByJurisdiction: map[string]int64{"FR": 1}}, Profile{},
			want{rule: "gdpr-art33", applies: AppliesYes, rationale: []string{"triggered by any personal data (user.contact.email)", "1 affected person in EU/EEA (FR 1)"}}},
		{"no categories", &Incident{Times: aware}, Exposure{ByJurisdiction: map[string]int64{"FR": 1}}, Profile{},
			want{rule: "gdpr-art33", applies: AppliesUnknown, rationale: []string{"the exposed data categories are not known"}}},
		{"no personal data", &Incident{Times: aware}, Exposure{Categories: []string{"system.operations"}, ByJurisdiction: map[string]int64{"FR": 1}}, Profile{},
			want{rule: "gdpr-art33", applies: AppliesNo, rationale: []string{"element triggers not met: the exposed data (system.operations) includes none of: any personal data"}}},
		{"a parent category may hold the trigger", &Incident{Times: aware}, Exposure{Categories: []string{"user"}, ByJurisdiction: map[string]int64{"US-TX": 1}}, Profile{},
			want{rule: "us-tx", applies: AppliesYes, rationale: []string{"triggered by name + government id number (user)"}}},
		{"email and password", &Incident{Times: aware}, Exposure{Categories: []string{"user.contact.email", "user.authorization.credentials"},
			ByJurisdiction: map[string]int64{"US-WA": 7}}, Profile{},
			want{rule: "us-wa", applies: AppliesYes, deadline: "2025-12-25T18:00:00Z",
				rationale: []string{"username or email + password or other credentials (user.authorization.credentials, user.contact.email)"}}},
		{"first name alone is not a name element", &Incident{Times: aware}, Exposure{Categories: []string{"user.name.first", "user.government_id"},
			ByJurisdiction: map[string]int64{"US-TX": 1}}, Profile{},
			want{rule: "us-tx", applies: AppliesNo}},
		{"lowercase and unknown keys", &Incident{Times: aware}, Exposure{Categories: []string{"user.name"},
			ByJurisdiction: map[string]int64{"gb": 2, "Unknown": 3, "": 1}}, Profile{},
			want{rule: "uk-gdpr-art33", applies: AppliesYes, rationale: []string{"2 affected people in the UK (GB)"}}},
		{"lead authority", &Incident{Times: aware}, Exposure{Categories: []string{"user.name"}, ByJurisdiction: map[string]int64{"DE": 1}},
			Profile{EUEstablishment: "IE"}, want{rule: "gdpr-art33", applies: AppliesYes,
				audience: "supervisory authority (lead supervisory authority of our main establishment: IE)"}},
		{"EEA outside the EU", &Incident{Times: aware}, Exposure{Categories: []string{"user.name"}, ByJurisdiction: map[string]int64{"NO": 1, "CH": 4}},
			Profile{}, want{rule: "gdpr-art33", applies: AppliesYes, rationale: []string{"1 affected person in EU/EEA (NO 1)"}, audience: "live: NO)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Clocks(nil, tt.in, tt.ex, tt.p, mixpanelNow), tt.w)
		})
	}
}

func TestClocksHIPAA(t *testing.T) {
	in := &Incident{Times: map[Anchor]time.Time{AnchorDiscovered: utc(2026, 3, 2, 12, 0),
		AnchorVendorDiscovered: utc(2026, 2, 20, 0, 0), AnchorVendorNotified: utc(2026, 2, 27, 0, 0)}}
	ex := Exposure{Categories: []string{"user.name", "user.health_and_medical.insurance_beneficiary_id"},
		ByJurisdiction: map[string]int64{"US-CA": 700, "US-TX": 300, "DE": 5}, Subjects: 1005}
	ds := Clocks(nil, in, ex, Profile{HIPAACovered: true}, utc(2026, 3, 3, 12, 0))
	check(t, ds, want{rule: "hipaa-individuals", applies: AppliesYes, deadline: "2026-05-01T12:00:00Z", timeLeft: "59d",
		rationale: []string{"profile: a HIPAA covered entity", "protected health information (user.health_and_medical.insurance_beneficiary_id)"}})
	th := byRule(t, ds, "hipaa-individuals").Thresholds
	if len(th) != 2 {
		t.Fatalf("thresholds %+v", th)
	}
	if th[0].Required != AppliesYes || th[0].Text != "HHS Secretary notice required: 1,005 people ≥ 500 (with fewer than 500, log the breach and report it within 60 days after the end of the calendar year)" ||
		th[0].Deadline.Format(time.RFC3339) != "2026-05-01T12:00:00Z" {
		t.Errorf("HHS threshold %+v", th[0])
	}
	if th[1].Required != AppliesYes || th[1].Count != 700 || th[1].Text != "prominent media outlets notice required: US-CA 700 > 500 (per state or jurisdiction)" {
		t.Errorf("media threshold %+v", th[1])
	}
	check(t, ds, want{rule: "hipaa-business-associate", applies: AppliesYes, status: DutyMet, deadline: "2026-04-21T00:00:00Z"})
}

func TestDutyJSON(t *testing.T) {
	ds := Clocks(nil, mixpanelIncident(nil), mixpanelExposure(), Profile{}, mixpanelNow)
	b, err := json.Marshal(ds)
	if err != nil {
		t.Fatal(err)
	}
	var back []Duty
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if !bytes.Equal(b, b2) {
		t.Errorf("JSON round trip changed the duties:\n%s\n%s", b, b2)
	}
	var raw []map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	keys := []string{"rule", "regime", "title", "audience", "notifies", "jurisdictions", "subjects", "applies", "rationale",
		"anchor", "anchor_time", "deadline", "deadline_text", "time_left", "time_left_seconds", "status", "late_by",
		"late_by_seconds", "citation", "verified", "rule_rationale"}
	for _, k := range keys {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("duty JSON lacks %q", k)
		}
	}
	c := raw[0]
	if c["rule"] != "contract-vendor-notice" || c["late_by"] != "14d 18h" || c["late_by_seconds"] != float64(1_274_400) ||
		c["deadline"] != "2025-11-11T00:00:00Z" || c["status"] != "missed" || c["time_left"] != nil {
		t.Errorf("contract duty JSON %v", c)
	}
	g := raw[1]
	if g["rule"] != "gdpr-art33" || g["time_left"] != "2d 6h" || g["time_left_seconds"] != float64(194_400) {
		t.Errorf("gdpr duty JSON %v", g)
	}
	if last := raw[len(raw)-1]; last["deadline"] != nil || last["time_left"] != nil {
		t.Errorf("last duty JSON %v", last)
	}
}

func TestFormatSpan(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0m"},
		{59 * time.Second, "0m"},
		{-59 * time.Second, "0m"},
		{45 * time.Minute, "45m"},
		{-45 * time.Minute, "-45m"},
		{3*time.Hour + 20*time.Minute, "3h 20m"},
		{24 * time.Hour, "1d"},
		{14*24*time.Hour + 6*time.Hour, "14d 6h"},
		{-(14*24*time.Hour + 6*time.Hour + 5*time.Minute), "-14d 6h 5m"},
	}
	for _, tt := range tests {
		if got := FormatSpan(tt.d); got != tt.want {
			t.Errorf("FormatSpan(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestSortDuties(t *testing.T) {
	at := func(h int) *time.Time { v := utc(2025, 1, 1, h, 0); return &v }
	ds := []Duty{{Rule: "c"}, {Rule: "b", Deadline: at(5)}, {Rule: "a"}, {Rule: "z", Deadline: at(1)}, {Rule: "y", Deadline: at(5)}}
	SortDuties(ds)
	if got := dutyIDs(ds); !slices.Equal(got, []string{"z", "b", "y", "a", "c"}) {
		t.Errorf("order %v", got)
	}
}

func TestClocksDeterministic(t *testing.T) {
	a, _ := json.Marshal(Clocks(nil, mixpanelIncident(nil), mixpanelExposure(), Profile{}, mixpanelNow))
	for range 5 {
		b, _ := json.Marshal(Clocks(nil, mixpanelIncident(nil), mixpanelExposure(), Profile{}, mixpanelNow))
		if !bytes.Equal(a, b) {
			t.Fatal("Clocks output differs between runs")
		}
	}
}

// golden compares v, as indented JSON, with testdata/clocks/NAME.golden.json;
// -update-clocks rewrites the file.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "clocks", name+".golden.json")
	if *updateClocks {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update-clocks)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; rerun with -update-clocks and review the diff", path)
	}
}
