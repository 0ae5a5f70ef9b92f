package incident

import (
	"cmp"
	"encoding/json"
	"fmt"
	"github.com/weaklink/weaklink/internal/textutil"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/taxonomy"
)

// Legal clocks.
//
// Clocks evaluates every rule against an incident, what its blast radius
// exposed and our own profile, and returns one Duty per rule: whether it
// applies and why, when its clock started, when it falls due and how much
// time is left. Duties that do not apply are kept, with the reason, so that
// "no US state law applies" is an answer rather than a silence.

// Disclaimer goes with every output of the clocks.
const Disclaimer = "Legal clocks are computed from weaklink's rules file (each rule shows its citation and the date it was verified); they are not legal advice. Confirm with counsel before relying on a deadline."

// Applies says whether a duty applies to an incident.
type Applies string

// Answers.
const (
	AppliesYes Applies = "yes"
	AppliesNo  Applies = "no"
	// AppliesUnknown: a fact the rule needs is missing (the high-risk or
	// materiality assessment, the anchor time, where people live, what was
	// exposed), and nothing rules the duty out.
	AppliesUnknown Applies = "unknown"
)

// DutyStatus is where a duty's clock stands.
type DutyStatus string

// Duty statuses. weaklink does not record filings yet, so a statutory duty
// that applies is open or overdue; only a rule with fulfilled_by (the
// vendor's contractual notice to us) can be met or missed.
const (
	DutyOpen       DutyStatus = "open"        // the clock runs; the deadline (if any) is ahead
	DutyOverdue    DutyStatus = "overdue"     // the deadline has passed
	DutyNotStarted DutyStatus = "not-started" // the anchor time is not recorded
	DutyNA         DutyStatus = "n/a"         // the duty does not apply
	DutyMet        DutyStatus = "met"         // fulfilled on time
	DutyMissed     DutyStatus = "missed"      // fulfilled late (see LateBy)
)

// Duty is one rule evaluated for one incident.
//
// In JSON, TimeLeft and LateBy appear as time_left and late_by (text such
// as "-14d 6h", negative when overdue) and time_left_seconds and
// late_by_seconds (whole seconds); all four are null when not applicable.
type Duty struct {
	Rule     string    `json:"rule"`
	Regime   string    `json:"regime"`
	Title    string    `json:"title"`
	Audience string    `json:"audience"`
	Notifies Recipient `json:"notifies"`
	// Jurisdictions are the rule's; Affected counts the affected people in
	// them by exposure key, and Subjects is their sum (for a rule that
	// applies anywhere, "*", every person counted by jurisdiction, and
	// Affected is left out).
	Jurisdictions []string         `json:"jurisdictions"`
	Affected      map[string]int64 `json:"affected,omitempty"`
	Subjects      int64            `json:"subjects"`
	Applies       Applies          `json:"applies"`
	// Rationale says why the duty applies or not: the decisive reasons
	// first, naming the triggering categories and counts.
	Rationale    string         `json:"rationale"`
	Anchor       Anchor         `json:"anchor"`
	AnchorTime   *time.Time     `json:"anchor_time"`
	Deadline     *time.Time     `json:"deadline"`
	DeadlineText string         `json:"deadline_text"`
	TimeLeft     *time.Duration `json:"-"`
	Status       DutyStatus     `json:"status"`
	// FulfilledAt is the rule's fulfilled_by anchor time, when recorded.
	FulfilledAt *time.Time     `json:"fulfilled_at,omitempty"`
	LateBy      *time.Duration `json:"-"`
	// Thresholds are the further notices owed (or not) by head count.
	Thresholds []ThresholdNote `json:"thresholds,omitempty"`
	Citation   string          `json:"citation"`
	Verified   string          `json:"verified"`
	Note       string          `json:"note,omitempty"`
	// RuleRationale is the rule's own explanation of the duty.
	RuleRationale string `json:"rule_rationale"`
}

// ThresholdNote is a rule's threshold evaluated: "Texas attorney general
// notice required: 1,204 residents ≥ 250".
type ThresholdNote struct {
	Audience string  `json:"audience"`
	Required Applies `json:"required"`
	// Count is the number of affected people counted (the largest single
	// jurisdiction for a per-jurisdiction threshold).
	Count        int64      `json:"count"`
	Text         string     `json:"text"`
	Deadline     *time.Time `json:"deadline,omitempty"`
	DeadlineText string     `json:"deadline_text,omitempty"`
}

type dutyPlain Duty // Duty without its methods

type dutyJSON struct {
	dutyPlain
	TimeLeft        *string `json:"time_left"`
	TimeLeftSeconds *int64  `json:"time_left_seconds"`
	LateBy          *string `json:"late_by"`
	LateBySeconds   *int64  `json:"late_by_seconds"`
}

// MarshalJSON adds time_left, time_left_seconds, late_by and
// late_by_seconds to the fields.
func (d Duty) MarshalJSON() ([]byte, error) {
	w := dutyJSON{dutyPlain: dutyPlain(d)}
	if d.TimeLeft != nil {
		s, n := FormatSpan(*d.TimeLeft), int64(d.TimeLeft.Truncate(time.Second)/time.Second)
		w.TimeLeft, w.TimeLeftSeconds = &s, &n
	}
	if d.LateBy != nil {
		s, n := FormatSpan(*d.LateBy), int64(d.LateBy.Truncate(time.Second)/time.Second)
		w.LateBy, w.LateBySeconds = &s, &n
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes (the *_seconds fields).
func (d *Duty) UnmarshalJSON(b []byte) error {
	var w dutyJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = Duty(w.dutyPlain)
	if w.TimeLeftSeconds != nil {
		v := time.Duration(*w.TimeLeftSeconds) * time.Second
		d.TimeLeft = &v
	}
	if w.LateBySeconds != nil {
		v := time.Duration(*w.LateBySeconds) * time.Second
		d.LateBy = &v
	}
	return nil
}

// FormatSpan writes a duration for people in days, hours and minutes:
// "14d 6h", "3h 20m", "-45m", "0m". Seconds are dropped.
func FormatSpan(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	mins := int64(d / time.Minute)
	days, hours, m := mins/(24*60), mins/60%24, mins%60
	var parts []string
	if days > 0 {
		parts = append(parts, strconv.FormatInt(days, 10)+"d")
	}
	if hours > 0 {
		parts = append(parts, strconv.FormatInt(hours, 10)+"h")
	}
	if m > 0 || len(parts) == 0 {
		parts = append(parts, strconv.FormatInt(m, 10)+"m")
	}
	if sign != "" && days == 0 && hours == 0 && m == 0 {
		sign = ""
	}
	return sign + strings.Join(parts, " ")
}

// Clocks evaluates every rule (DefaultRules when rules is nil) for an
// incident, what its blast radius exposed and our profile, at instant now.
// The exposed categories are ex.Categories, or in.Categories when the blast
// radius found none. The duties come sorted by deadline (none last), then
// rule id. The output depends on its arguments only.
func Clocks(rules *Rules, in *Incident, ex Exposure, p Profile, now time.Time) []Duty {
	if rules == nil {
		rules = DefaultRules()
	}
	if in == nil {
		in = &Incident{}
	}
	cats := ex.Categories
	if len(cats) == 0 {
		cats = in.Categories
	}
	cats = slices.Clone(cats)
	slices.Sort(cats)
	cats = slices.Compact(cats)
	res := newResidence(ex)
	duties := make([]Duty, 0, rules.Len())
	for i := range rules.list {
		duties = append(duties, evaluate(&rules.list[i], in, cats, res, p, now))
	}
	SortDuties(duties)
	return duties
}

// SortDuties sorts duties by deadline (none last), then rule id.
func SortDuties(duties []Duty) {
	slices.SortStableFunc(duties, func(a, b Duty) int {
		switch {
		case a.Deadline != nil && b.Deadline != nil:
			if c := a.Deadline.Compare(*b.Deadline); c != 0 {
				return c
			}
		case a.Deadline != nil:
			return -1
		case b.Deadline != nil:
			return 1
		}
		return strings.Compare(a.Rule, b.Rule)
	})
}

// reason is one finding about a rule: its answer and why.
type reason struct {
	a    Applies
	text string
}

func evaluate(r *Rule, in *Incident, cats []string, res residence, p Profile, now time.Time) Duty {
	d := Duty{
		Rule: r.ID, Regime: r.Regime, Title: r.Title, Audience: r.Audience, Notifies: r.Notifies,
		Jurisdictions: slices.Clone(r.Jurisdictions), Anchor: r.Anchor, Citation: r.Citation,
		Verified: r.Verified, Note: r.Note, RuleRationale: r.Rationale,
	}
	var rs []reason
	add := func(a Applies, format string, args ...any) { rs = append(rs, reason{a, fmt.Sprintf(format, args...)}) }

	for _, c := range r.Triggers.Profile {
		if profileHas(p, c) {
			add(AppliesYes, "profile: %s", profileWords[c])
		} else {
			add(AppliesNo, "profile: not %s (%s is not set)", profileWords[c], c)
		}
	}

	if r.Deadline.ContractHours {
		if in.ContractNoticeHours <= 0 {
			add(AppliesNo, "no contractual notice period is recorded (contract_notice_hours is 0)")
		} else {
			add(AppliesYes, "the contract requires notice within %s of the vendor's discovery", textutil.Plural(in.ContractNoticeHours, "hour"))
		}
	}

	if len(r.Triggers.Categories) > 0 {
		switch hits := matchCategorySets(r.Triggers.Categories, cats); {
		case len(hits) > 0:
			add(AppliesYes, "triggered by %s", strings.Join(hits, "; "))
		case len(cats) == 0:
			add(AppliesUnknown, "the exposed data categories are not known")
		default:
			needs := make([]string, len(r.Triggers.Categories))
			for i, s := range r.Triggers.Categories {
				needs[i] = setLabel(s)
			}
			add(AppliesNo, "element triggers not met: the exposed data (%s) includes none of: %s",
				strings.Join(cats, ", "), strings.Join(needs, "; "))
		}
	}

	if slices.Contains(r.Jurisdictions, "*") {
		// Where people live does not matter; Subjects still tells how many.
		_, d.Subjects, _ = res.count(r.Jurisdictions, nil)
	} else {
		where := describeJurisdictions(r)
		counts, sum, maybe := res.count(r.Jurisdictions, r.except)
		if len(counts) > 0 {
			d.Affected = counts
		}
		d.Subjects = sum
		switch {
		case sum > 0:
			detail := ""
			if len(counts) > 1 || !slices.Equal(slices.Collect(maps.Keys(counts)), r.Jurisdictions) {
				detail = " (" + describeCounts(counts) + ")"
			}
			add(AppliesYes, "%s in %s%s", people(sum, "affected person", "affected people"), where, detail)
		case maybe > 0:
			add(AppliesUnknown, "no affected people known in %s, but %s of unknown or wider residence may live there", where, fmtCount(maybe))
		case res.none:
			add(AppliesUnknown, "where the affected people live is not known (no counts by jurisdiction)")
		default:
			add(AppliesNo, "no affected people in %s", where)
		}
	}

	harmText := func(def string) string {
		if r.Triggers.HarmText != "" {
			return r.Triggers.HarmText
		}
		return def
	}
	switch r.Triggers.Harm {
	case HarmNone:
		if r.Triggers.HarmText != "" {
			add(AppliesYes, "no harm test (%s)", r.Triggers.HarmText)
		}
	case HarmRisk:
		add(AppliesYes, "risk test presumed met: the duty applies %s; record the assessment",
			harmText("unless the breach is unlikely to result in a risk to people"))
	case HarmHighRisk:
		switch {
		case in.HighRisk == nil:
			add(AppliesUnknown, "high-risk assessment not recorded (test: %s)", harmText("likely to result in a high risk to people"))
		case *in.HighRisk:
			add(AppliesYes, "assessed as high risk (test: %s)", harmText("likely to result in a high risk to people"))
		default:
			add(AppliesNo, "assessed as not high risk (test: %s)", harmText("likely to result in a high risk to people"))
		}
	case HarmMaterial:
		switch {
		case in.Material == nil:
			add(AppliesUnknown, "materiality not determined")
		case *in.Material:
			add(AppliesYes, "determined material")
		default:
			add(AppliesNo, "determined not material")
		}
	}

	anchorT, anchorOK := in.Time(r.Anchor)
	if anchorOK {
		d.AnchorTime = &anchorT
		how := ""
		if t, set := in.Times[r.Anchor]; !set || t.IsZero() {
			how = " (recorded as awareness)"
		}
		add(AppliesYes, "clock runs from %s at %s%s", anchorWords[r.Anchor], anchorT.Format(time.RFC3339), how)
	} else {
		add(AppliesUnknown, "clock not started: no %s time recorded", r.Anchor)
	}

	d.Applies = AppliesYes
	for _, x := range rs {
		switch {
		case x.a == AppliesNo:
			d.Applies = AppliesNo
		case x.a == AppliesUnknown && d.Applies == AppliesYes:
			d.Applies = AppliesUnknown
		}
	}

	if r.LeadAuthority && d.Applies != AppliesNo {
		d.Audience = leadAuthority(r, p, d.Affected)
	}
	d.DeadlineText = r.Deadline.Describe(r.Anchor, in.ContractNoticeHours)

	switch {
	case d.Applies == AppliesNo:
		d.Status = DutyNA
	case !anchorOK:
		d.Status = DutyNotStarted
	default:
		if due, ok := r.Deadline.Due(anchorT, in.ContractNoticeHours); ok {
			d.Deadline = &due
		}
		var done time.Time
		var doneOK bool
		if r.FulfilledBy != "" {
			done, doneOK = in.Time(r.FulfilledBy)
		}
		switch {
		case doneOK:
			d.FulfilledAt = &done
			if d.Deadline != nil && done.After(*d.Deadline) {
				late := done.Sub(*d.Deadline)
				d.LateBy, d.Status = &late, DutyMissed
				add(AppliesYes, "%s at %s: late by %s", fulfilledWords(r.FulfilledBy), done.Format(time.RFC3339), FormatSpan(late))
			} else {
				d.Status = DutyMet
				add(AppliesYes, "%s at %s: on time", fulfilledWords(r.FulfilledBy), done.Format(time.RFC3339))
			}
		case d.Deadline != nil:
			left := d.Deadline.Sub(now)
			d.TimeLeft = &left
			d.Status = DutyOpen
			if left < 0 {
				d.Status = DutyOverdue
			}
		default:
			d.Status = DutyOpen
		}
	}
	if d.Applies != AppliesNo {
		for i := range r.Thresholds {
			d.Thresholds = append(d.Thresholds, evalThreshold(&r.Thresholds[i], r, res, anchorT, anchorOK, in.ContractNoticeHours))
		}
	}

	// The decisive reasons first: no, then unknown, then yes.
	order := map[Applies]int{AppliesNo: 0, AppliesUnknown: 1, AppliesYes: 2}
	slices.SortStableFunc(rs, func(a, b reason) int { return cmp.Compare(order[a.a], order[b.a]) })
	texts := make([]string, len(rs))
	for i, x := range rs {
		texts[i] = x.text
	}
	d.Rationale = strings.Join(texts, "; ")
	return d
}

var profileWords = map[string]string{
	CondPublicCompany: "a public company filing with the SEC",
	CondNYDFSCovered:  "a NYDFS covered entity (23 NYCRR 500)",
	CondHIPAACovered:  "a HIPAA covered entity or business associate",
}

func profileHas(p Profile, cond string) bool {
	switch cond {
	case CondPublicCompany:
		return p.PublicCompany
	case CondNYDFSCovered:
		return p.NYDFSCovered
	case CondHIPAACovered:
		return p.HIPAACovered
	}
	return false
}

var anchorWords = map[Anchor]string{
	AnchorStart:            "the start of the breach",
	AnchorVendorDiscovered: "the vendor's discovery",
	AnchorVendorNotified:   "the vendor's notice to us",
	AnchorDatasetReceived:  "receipt of the affected dataset",
	AnchorAware:            "awareness",
	AnchorDiscovered:       "discovery",
	AnchorDetermined:       "the determination that a breach occurred",
	AnchorMaterial:         "the materiality determination",
	AnchorContained:        "containment",
	AnchorClosed:           "closure",
}

func fulfilledWords(a Anchor) string {
	if a == AnchorVendorNotified {
		return "the vendor notified us"
	}
	return "done (" + string(a) + ")"
}

// Describe words the deadline for people: "72 hours after awareness",
// "without undue delay, at most 72 hours after awareness", "4 business days
// after the materiality determination (US federal holidays, America/New_York)".
// contractHours fills a contract_hours deadline.
func (d *Deadline) Describe(a Anchor, contractHours int) string {
	if d.Text != "" {
		return d.Text
	}
	after := " after " + anchorWords[a]
	fixed, detail := "", ""
	switch {
	case d.Hours > 0:
		fixed = textutil.Plural(d.Hours, "hour")
	case d.Days > 0:
		fixed = textutil.Plural(d.Days, "day")
		if d.loc != nil && d.loc != time.UTC {
			detail = " (" + d.loc.String() + ")"
		}
	case d.BusinessDays > 0:
		fixed = textutil.Plural(d.BusinessDays, "business day")
		cal := "weekends skipped, holidays not modelled"
		if d.cal.holidays {
			cal = "US federal holidays"
		}
		loc := "UTC"
		if d.loc != nil {
			loc = d.loc.String()
		}
		detail = " (" + cal + ", " + loc + ")"
	case d.ContractHours:
		if contractHours > 0 {
			fixed = textutil.Plural(contractHours, "hour")
		} else {
			fixed = "the contract's notice period"
		}
		detail = " (contract)"
	}
	switch {
	case fixed == "":
		return d.Qualitative + after
	case d.Qualitative != "":
		return d.Qualitative + ", at most " + fixed + after + detail
	}
	return fixed + after + detail
}

// Due returns the deadline's outer limit for a clock started at anchor, or
// false for a qualitative deadline (or a contract deadline without hours).
// Hours are elapsed time; days are calendar days at the same wall-clock time
// in the deadline's zone; business days follow AddBusinessDays with the
// deadline's calendar and zone. The result is in the deadline's zone (UTC
// unless the rule names one, or counts US federal business days).
func (d *Deadline) Due(anchor time.Time, contractHours int) (time.Time, bool) {
	loc := d.loc
	if loc == nil {
		loc = time.UTC
	}
	switch {
	case d.Hours > 0:
		return anchor.Add(time.Duration(d.Hours) * time.Hour).In(loc), true
	case d.Days > 0:
		return anchor.In(loc).AddDate(0, 0, d.Days), true
	case d.BusinessDays > 0:
		cal := d.cal
		if cal.name == "" {
			cal = usFederal
		}
		return cal.add(anchor, d.BusinessDays, loc), true
	case d.ContractHours && contractHours > 0:
		return anchor.Add(time.Duration(contractHours) * time.Hour).In(loc), true
	}
	return time.Time{}, false
}

// leadAuthority names the supervisory authorities a GDPR notice goes to:
// the lead authority of our main EU establishment, else the authority of
// every member state where affected people live (EDPB Guidelines 9/2022).
func leadAuthority(r *Rule, p Profile, affected map[string]int64) string {
	if p.EUEstablishment != "" {
		return fmt.Sprintf("%s (lead supervisory authority of our main establishment: %s)", r.Audience, p.EUEstablishment)
	}
	countries := map[string]bool{}
	for k := range affected {
		c, _, _ := strings.Cut(k, "-")
		countries[c] = true
	}
	if len(countries) == 0 {
		return r.Audience + " (no EU establishment: the supervisory authority of every member state where affected people live)"
	}
	return fmt.Sprintf("%s (no EU establishment: the supervisory authority of each member state where affected people live: %s)",
		r.Audience, strings.Join(slices.Sorted(maps.Keys(countries)), ", "))
}

// matchCategorySets returns a description of every set the exposed
// categories satisfy.
func matchCategorySets(sets []CategorySet, exposed []string) []string {
	var hits []string
	for _, s := range sets {
		var used []string
		ok := true
		for _, k := range s.AllOf {
			m := overlapping(k, exposed)
			if len(m) == 0 {
				ok = false
				break
			}
			used = append(used, m...)
		}
		if ok && len(s.AnyOf) > 0 {
			var some []string
			for _, k := range s.AnyOf {
				some = append(some, overlapping(k, exposed)...)
			}
			if len(some) == 0 {
				ok = false
			}
			used = append(used, some...)
		}
		if ok {
			slices.Sort(used)
			hits = append(hits, fmt.Sprintf("%s (%s)", setLabel(s), strings.Join(slices.Compact(used), ", ")))
		}
	}
	return hits
}

// overlapping returns the exposed categories that may hold data of trigger
// key k: k itself, keys below it, and keys above it (a parent stands for
// its children).
func overlapping(k string, exposed []string) []string {
	var out []string
	for _, e := range exposed {
		if taxonomy.Overlaps(k, e) {
			out = append(out, e)
		}
	}
	return out
}

func setLabel(s CategorySet) string {
	if s.Label != "" {
		return s.Label
	}
	var parts []string
	if len(s.AllOf) > 0 {
		parts = append(parts, strings.Join(s.AllOf, " + "))
	}
	if len(s.AnyOf) > 0 {
		parts = append(parts, "one of "+strings.Join(s.AnyOf, ", "))
	}
	return strings.Join(parts, " + ")
}

// residence is Exposure.ByJurisdiction, normalised.
type residence struct {
	counts  map[string]int64 // known places
	keys    []string         // sorted
	unknown int64            // people whose residence is not known
	none    bool             // no counts at all
}

func newResidence(ex Exposure) residence {
	res := residence{counts: map[string]int64{}}
	var known int64
	for k, v := range ex.ByJurisdiction {
		if v <= 0 {
			continue
		}
		k = strings.TrimSpace(k)
		if k == "" || strings.EqualFold(k, "unknown") {
			res.unknown += v
			continue
		}
		k = strings.ToUpper(k)
		res.counts[k] += v
		known += v
	}
	if rest := ex.Subjects - known; rest > res.unknown {
		res.unknown = rest
	}
	res.keys = slices.Sorted(maps.Keys(res.counts))
	res.none = len(res.counts) == 0 && res.unknown == 0
	return res
}

// count returns the people counted in jurisdictions jurs but not in
// except, by key; their sum; and how many more may live there (counted
// under a wider area, or of unknown residence).
func (res residence) count(jurs, except []string) (in map[string]int64, sum, maybe int64) {
	in = map[string]int64{}
	for _, k := range res.keys {
		c := res.counts[k]
		switch {
		case anyCovers(jurs, k) && anyCovers(except, k):
		case anyCovers(jurs, k) && anyContains(k, except):
			maybe += c
		case anyCovers(jurs, k):
			in[k] += c
			sum += c
		case anyContains(k, jurs):
			maybe += c
		}
	}
	return in, sum, maybe + res.unknown
}

func anyCovers(jurs []string, k string) bool {
	return slices.ContainsFunc(jurs, func(j string) bool { return jurisdictionCovers(j, k) })
}

func anyContains(k string, jurs []string) bool {
	return slices.ContainsFunc(jurs, func(j string) bool { return jurisdictionContains(k, j) })
}

func describeJurisdictions(r *Rule) string {
	names := make([]string, len(r.Jurisdictions))
	for i, j := range r.Jurisdictions {
		names[i] = j
		if name, ok := jurisdictionNames[j]; ok {
			names[i] = name
		}
	}
	s := strings.Join(names, ", ")
	if r.Residual {
		s += " (places without a rule of their own)"
	}
	return s
}

// jurisdictionNames spell out the codes a reader could misread (CA is
// Canada; US-CA is California).
var jurisdictionNames = map[string]string{
	"EU": "EU/EEA",
	"CA": "Canada (CA)",
	"AU": "Australia (AU)",
	"BR": "Brazil (BR)",
	"GB": "the UK (GB)",
	"US": "the US",
}

func describeCounts(in map[string]int64) string {
	parts := make([]string, 0, len(in))
	for _, k := range slices.Sorted(maps.Keys(in)) {
		parts = append(parts, k+" "+fmtCount(in[k]))
	}
	return strings.Join(parts, ", ")
}

func evalThreshold(th *Threshold, r *Rule, res residence, anchor time.Time, anchorOK bool, contractHours int) ThresholdNote {
	n := ThresholdNote{Audience: th.Audience}
	jurs, except := th.Jurisdictions, []string(nil)
	if len(jurs) == 0 {
		jurs, except = r.Jurisdictions, r.except
	}
	noun := "residents"
	if slices.Contains(jurs, "*") {
		noun = "people"
	}
	in, sum, maybe := res.count(jurs, except)
	var limit int64
	op, notOp := "", ""
	switch {
	case th.MoreThan != nil:
		limit, op, notOp = *th.MoreThan, ">", "≤"
	case th.AtLeast != nil:
		limit, op, notOp = *th.AtLeast, "≥", "<"
	}
	meets := func(c int64) bool {
		if th.MoreThan != nil {
			return c > limit
		}
		return c >= limit
	}
	switch {
	case op == "":
		n.Required, n.Count = AppliesYes, sum
		n.Text = th.Audience + " notice required"
	case th.PerJurisdiction:
		var over []string
		var top int64
		topKey := ""
		for _, k := range slices.Sorted(maps.Keys(in)) {
			if in[k] > top {
				top, topKey = in[k], k
			}
			if meets(in[k]) {
				over = append(over, fmt.Sprintf("%s %s %s %s", k, fmtCount(in[k]), op, fmtCount(limit)))
			}
		}
		n.Count = top
		switch {
		case len(over) > 0:
			n.Required = AppliesYes
			n.Text = fmt.Sprintf("%s notice required: %s", th.Audience, strings.Join(over, ", "))
		case meets(top + maybe):
			n.Required = AppliesUnknown
			n.Text = fmt.Sprintf("%s notice may be required: %s of unknown residence could take a jurisdiction %s %s",
				th.Audience, fmtCount(maybe), op, fmtCount(limit))
		default:
			n.Required = AppliesNo
			largest := "none affected"
			if topKey != "" {
				largest = "largest " + topKey + " " + fmtCount(top)
			}
			n.Text = fmt.Sprintf("%s notice not required: no jurisdiction %s %s (%s)", th.Audience, op, fmtCount(limit), largest)
		}
	default:
		n.Count = sum
		switch {
		case meets(sum):
			n.Required = AppliesYes
			n.Text = fmt.Sprintf("%s notice required: %s %s %s %s", th.Audience, fmtCount(sum), noun, op, fmtCount(limit))
		case meets(sum + maybe):
			n.Required = AppliesUnknown
			n.Text = fmt.Sprintf("%s notice may be required: %s %s %s %s, plus %s of unknown or wider residence",
				th.Audience, fmtCount(sum), noun, notOp, fmtCount(limit), fmtCount(maybe))
		default:
			n.Required = AppliesNo
			n.Text = fmt.Sprintf("%s notice not required: %s %s %s %s", th.Audience, fmtCount(sum), noun, notOp, fmtCount(limit))
		}
	}
	if th.Text != "" {
		n.Text += " (" + th.Text + ")"
	}
	if th.Deadline != nil && n.Required != AppliesNo {
		n.DeadlineText = th.Deadline.Describe(r.Anchor, contractHours)
		if due, ok := th.Deadline.Due(anchor, contractHours); ok && anchorOK {
			n.Deadline = &due
		}
	}
	return n
}

func people(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmtCount(n) + " " + many
}

// fmtCount writes n with thousands separators: 1,204.
func fmtCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// DutySummary is the short answer to "whom must we tell, and by when?".
type DutySummary struct {
	// IndividualNotice is yes when a rule requires notice to affected
	// people, unknown when one may once open facts are decided, else no.
	IndividualNotice Applies `json:"individual_notice"`
	// Headline is the one-line answer about individuals: "no statutory duty
	// to notify individuals applies; voluntary notice recommended" when no
	// individual-notice rule applies.
	Headline string `json:"headline"`
	// Rule ids by kind: duties that apply, and those that may.
	Individuals         []string `json:"individuals"`
	IndividualsPossible []string `json:"individuals_possible"`
	Others              []string `json:"others"`
	OthersPossible      []string `json:"others_possible"`
	Overdue             []string `json:"overdue"`
	Missed              []string `json:"missed"`
	// Next is the earliest open deadline among the duties that apply or may.
	Next *NextDeadline `json:"next,omitempty"`
	// Lines are the summary for people, one sentence each, ending with the
	// disclaimer.
	Lines      []string `json:"lines"`
	Disclaimer string   `json:"disclaimer"`
}

// NextDeadline is the duty due soonest.
type NextDeadline struct {
	Rule     string    `json:"rule"`
	Deadline time.Time `json:"deadline"`
}

// Voluntary is the headline when no statutory duty to notify individuals
// applies.
const Voluntary = "no statutory duty to notify individuals applies; voluntary notice recommended"

// SummarizeDuties condenses the output of Clocks. Duties keep their order.
func SummarizeDuties(duties []Duty) DutySummary {
	s := DutySummary{Individuals: []string{}, IndividualsPossible: []string{}, Others: []string{},
		OthersPossible: []string{}, Overdue: []string{}, Missed: []string{}, Disclaimer: Disclaimer}
	due := func(d Duty) string {
		if d.Deadline == nil {
			return d.Rule + " (" + d.DeadlineText + ")"
		}
		return d.Rule + " (due " + d.Deadline.Format(time.RFC3339) + ")"
	}
	var indYes, indMaybe, othYes, othMaybe []string
	for _, d := range duties {
		ind := d.Notifies == RecipientIndividuals
		switch {
		case d.Applies == AppliesYes && ind:
			s.Individuals = append(s.Individuals, d.Rule)
			indYes = append(indYes, due(d))
		case d.Applies == AppliesUnknown && ind:
			s.IndividualsPossible = append(s.IndividualsPossible, d.Rule)
			indMaybe = append(indMaybe, due(d))
		case d.Applies == AppliesYes:
			s.Others = append(s.Others, d.Rule)
			othYes = append(othYes, due(d))
		case d.Applies == AppliesUnknown:
			s.OthersPossible = append(s.OthersPossible, d.Rule)
			othMaybe = append(othMaybe, due(d))
		}
		switch d.Status {
		case DutyOverdue:
			s.Overdue = append(s.Overdue, d.Rule)
		case DutyMissed:
			s.Missed = append(s.Missed, fmt.Sprintf("%s (late by %s)", d.Rule, FormatSpan(*d.LateBy)))
		}
		if (d.Status == DutyOpen || d.Status == DutyOverdue) && d.Deadline != nil &&
			(s.Next == nil || d.Deadline.Before(s.Next.Deadline)) {
			s.Next = &NextDeadline{Rule: d.Rule, Deadline: *d.Deadline}
		}
	}
	switch {
	case len(indYes) > 0:
		s.IndividualNotice = AppliesYes
		s.Headline = "statutory duty to notify individuals: " + strings.Join(indYes, ", ")
	case len(indMaybe) > 0:
		s.IndividualNotice = AppliesUnknown
		s.Headline = "a statutory duty to notify individuals may apply once open facts are decided: " + strings.Join(indMaybe, ", ")
	default:
		s.IndividualNotice = AppliesNo
		s.Headline = Voluntary
	}
	s.Lines = append(s.Lines, s.Headline)
	if len(othYes) > 0 {
		s.Lines = append(s.Lines, "other duties that apply: "+strings.Join(othYes, ", "))
	}
	if len(othMaybe) > 0 {
		s.Lines = append(s.Lines, "other duties that may apply: "+strings.Join(othMaybe, ", "))
	}
	if len(s.Overdue) > 0 {
		s.Lines = append(s.Lines, "overdue: "+strings.Join(s.Overdue, ", "))
	}
	if len(s.Missed) > 0 {
		s.Lines = append(s.Lines, "missed by the vendor: "+strings.Join(s.Missed, ", "))
	}
	s.Lines = append(s.Lines, Disclaimer)
	return s
}
