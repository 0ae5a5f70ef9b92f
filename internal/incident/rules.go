package incident

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/weaklink/weaklink/internal/taxonomy"
	"github.com/weaklink/weaklink/internal/textutil"
	"github.com/weaklink/weaklink/internal/yamlx"
)

// The legal rules that start clocks when a breach happens live in
// rules/*.yaml, one file per family (EU and UK, US federal, US states, other
// countries, contract). They are embedded in the binary; an operator can
// replace them with a file or a directory of files (LoadRulesFile), or
// replace and add single rules on top of the embedded set (Rules.With).
//
// Every rule carries its citation, the date its facts were last checked
// against a source (verified) and, where a figure still needs checking
// against the statute text, a note that says so. The rules describe the law
// as weaklink's authors understood it; they are not legal advice.

//go:embed rules/*.yaml
var rulesFS embed.FS

// RulesVersion is the version of the rules file format this package reads.
const RulesVersion = 1

// Harm is the harm test a rule's duty depends on.
type Harm string

// Harm tests.
const (
	// HarmNone: the duty arises whenever the other triggers hold.
	HarmNone Harm = "none"
	// HarmRisk: the duty arises unless the breach is unlikely to result in
	// a risk to people (GDPR Art. 33). weaklink presumes the risk: the
	// incident has no field to record the opposite assessment.
	HarmRisk Harm = "risk"
	// HarmHighRisk: the duty arises when the breach is likely to result in
	// a high risk (GDPR Art. 34) or a similar serious-harm test (PIPEDA,
	// Australia, LGPD). It reads Incident.HighRisk.
	HarmHighRisk Harm = "high_risk"
	// HarmMaterial: the duty arises when the incident is material to
	// investors (SEC). It reads Incident.Material.
	HarmMaterial Harm = "material"
)

// Harms lists the harm tests.
var Harms = []Harm{HarmNone, HarmRisk, HarmHighRisk, HarmMaterial}

// Recipient is the kind of party a duty is owed to.
type Recipient string

// Recipients.
const (
	RecipientIndividuals Recipient = "individuals" // the affected people
	RecipientAuthority   Recipient = "authority"   // a regulator or attorney general
	RecipientInvestors   Recipient = "investors"   // a public filing (SEC)
	RecipientRecord      Recipient = "record"      // an internal record
	// RecipientController is us: the vendor's duty to tell us, by contract
	// or by statute.
	RecipientController Recipient = "controller"
)

// Recipients lists the recipient kinds.
var Recipients = []Recipient{RecipientIndividuals, RecipientAuthority, RecipientInvestors, RecipientRecord, RecipientController}

// Profile conditions a rule can require (Profile fields).
const (
	CondPublicCompany = "public_company"
	CondNYDFSCovered  = "nydfs_covered"
	CondHIPAACovered  = "hipaa_covered"
)

// ProfileConditions lists the profile conditions a rule can require.
var ProfileConditions = []string{CondHIPAACovered, CondNYDFSCovered, CondPublicCompany}

// Rule is one legal or contractual duty to notify someone of a breach.
type Rule struct {
	// ID is a stable slug (gdpr-art33, us-tx).
	ID string `yaml:"id" json:"id"`
	// Regime is the law or instrument (GDPR, US state breach law). Rules
	// marked residual are grouped by it.
	Regime string `yaml:"regime" json:"regime"`
	Title  string `yaml:"title" json:"title"`
	// Audience says who must be told, for people (lead supervisory
	// authority; Texans whose data was exposed).
	Audience string `yaml:"audience" json:"audience"`
	// Notifies is the kind of recipient, for machines and the summary.
	Notifies Recipient `yaml:"notifies" json:"notifies"`
	// LeadAuthority marks a GDPR-style duty owed to the lead supervisory
	// authority when we have an EU establishment, else to the authority of
	// every member state where affected people live.
	LeadAuthority bool `yaml:"lead_authority,omitempty" json:"lead_authority,omitempty"`
	// Jurisdictions are where the affected people must live for the duty to
	// arise: ISO 3166-1 alpha-2 codes, US-XX and CA-XX subdivisions, "EU"
	// for every EU and EEA member state, or "*" for anywhere (a duty that
	// follows from who we are, not where the people live).
	Jurisdictions []string `yaml:"jurisdictions" json:"jurisdictions"`
	// Residual rules cover only what no other rule of the same regime
	// covers: "every other US state".
	Residual bool `yaml:"residual,omitempty" json:"residual,omitempty"`
	// Anchor is the instant the clock runs from.
	Anchor   Anchor   `yaml:"anchor" json:"anchor"`
	Deadline Deadline `yaml:"deadline" json:"deadline"`
	// FulfilledBy names the anchor that records the duty was done (the
	// contract rule: vendor_notified); the duty is then met or missed.
	FulfilledBy Anchor      `yaml:"fulfilled_by,omitempty" json:"fulfilled_by,omitempty"`
	Triggers    Triggers    `yaml:"triggers" json:"triggers"`
	Thresholds  []Threshold `yaml:"thresholds,omitempty" json:"thresholds,omitempty"`
	Citation    string      `yaml:"citation" json:"citation"`
	// Verified is the date (YYYY-MM-DD) the rule's facts were last checked.
	Verified string `yaml:"verified" json:"verified"`
	// Note says what still needs checking and what the rule leaves out.
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
	// Rationale explains the duty in plain words.
	Rationale string `yaml:"rationale" json:"rationale"`

	source string   `yaml:"-"` // file:line
	except []string `yaml:"-"` // residual: jurisdictions claimed by other rules of the regime
}

// Source returns where the rule was defined (file:line).
func (r *Rule) Source() string { return r.source }

// Deadline is when a duty falls due. A fixed period is one of Hours
// (elapsed time), Days (calendar days: the same wall-clock time n days
// later in TimeZone, UTC by default), BusinessDays (see AddBusinessDays and
// Calendar) or ContractHours (the incident's ContractNoticeHours). A
// Qualitative deadline ("without undue delay") may stand alone or come with
// a fixed period as its outer limit.
type Deadline struct {
	Qualitative  string `yaml:"qualitative,omitempty" json:"qualitative,omitempty"`
	Hours        int    `yaml:"hours,omitempty" json:"hours,omitempty"`
	Days         int    `yaml:"days,omitempty" json:"days,omitempty"`
	BusinessDays int    `yaml:"business_days,omitempty" json:"business_days,omitempty"`
	// Calendar is us-federal (the default) or weekends.
	Calendar string `yaml:"calendar,omitempty" json:"calendar,omitempty"`
	// TimeZone is the IANA zone days and business days are counted in; by
	// default the calendar's (America/New_York for us-federal), else UTC.
	TimeZone      string `yaml:"time_zone,omitempty" json:"time_zone,omitempty"`
	ContractHours bool   `yaml:"contract_hours,omitempty" json:"contract_hours,omitempty"`
	// Text replaces the generated description.
	Text string `yaml:"text,omitempty" json:"text,omitempty"`

	cal calendar       `yaml:"-"`
	loc *time.Location `yaml:"-"`
}

// Fixed reports whether the deadline has a fixed period (an outer limit).
func (d *Deadline) Fixed() bool {
	return d.Hours > 0 || d.Days > 0 || d.BusinessDays > 0 || d.ContractHours
}

// Triggers are the conditions under which a rule's duty arises. All must
// hold.
type Triggers struct {
	// Profile conditions our organisation must meet (all of them):
	// public_company, nydfs_covered, hipaa_covered.
	Profile []string `yaml:"profile,omitempty" json:"profile,omitempty"`
	// Categories are the data-element triggers: the duty arises when the
	// exposed categories satisfy at least one set. None: any breach.
	Categories []CategorySet `yaml:"categories,omitempty" json:"categories,omitempty"`
	// Harm is the harm test.
	Harm Harm `yaml:"harm" json:"harm"`
	// HarmText words the statute's own test, for the rationale.
	HarmText string `yaml:"harm_text,omitempty" json:"harm_text,omitempty"`
}

// CategorySet is one combination of exposed data that triggers a duty:
// every key of AllOf and at least one of AnyOf (when given). A key stands
// for itself and its descendants, and an exposed parent key (user.name) may
// contain a trigger below it (user.name.last), so it satisfies it.
type CategorySet struct {
	// Label names the combination in rationales ("name + government id").
	Label string   `yaml:"label,omitempty" json:"label,omitempty"`
	AllOf []string `yaml:"all_of,omitempty" json:"all_of,omitempty"`
	AnyOf []string `yaml:"any_of,omitempty" json:"any_of,omitempty"`
}

// Threshold is a further notice (usually to an attorney general) owed when
// enough people are affected. With neither MoreThan nor AtLeast it is always
// owed.
type Threshold struct {
	// Audience is who gets the further notice (Texas attorney general).
	Audience string `yaml:"audience" json:"audience"`
	MoreThan *int64 `yaml:"more_than,omitempty" json:"more_than,omitempty"`
	AtLeast  *int64 `yaml:"at_least,omitempty" json:"at_least,omitempty"`
	// Jurisdictions whose residents are counted; by default the rule's.
	Jurisdictions []string `yaml:"jurisdictions,omitempty" json:"jurisdictions,omitempty"`
	// PerJurisdiction counts each jurisdiction on its own ("more than 500
	// residents of a state").
	PerJurisdiction bool `yaml:"per_jurisdiction,omitempty" json:"per_jurisdiction,omitempty"`
	// Deadline, counted from the rule's anchor, if the notice has its own.
	Deadline *Deadline `yaml:"deadline,omitempty" json:"deadline,omitempty"`
	// Text adds what the count cannot say ("within 15 days of the resident
	// notice").
	Text string `yaml:"text,omitempty" json:"text,omitempty"`
}

// Rules is a validated, immutable set of rules in id order.
type Rules struct {
	list []Rule
	byID map[string]int
}

// All returns the rules in id order. The slice must not be modified.
func (rs *Rules) All() []Rule { return rs.list }

// Len returns the number of rules.
func (rs *Rules) Len() int { return len(rs.list) }

// Get returns the rule with an id.
func (rs *Rules) Get(id string) (Rule, bool) {
	i, ok := rs.byID[id]
	if !ok {
		return Rule{}, false
	}
	return rs.list[i], true
}

// With returns a new set: rs with every rule of over added, replacing a
// rule of rs with the same id. Operators use it to correct or add single
// rules without copying the whole embedded set.
func (rs *Rules) With(over *Rules) *Rules {
	var list []Rule
	for _, r := range rs.list {
		if _, replaced := over.byID[r.ID]; !replaced {
			list = append(list, r)
		}
	}
	return newRules(append(list, over.list...))
}

func newRules(list []Rule) *Rules {
	slices.SortFunc(list, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	rs := &Rules{list: list, byID: make(map[string]int, len(list))}
	byRegime := map[string][]int{}
	for i := range list {
		rs.byID[list[i].ID] = i
		byRegime[list[i].Regime] = append(byRegime[list[i].Regime], i)
	}
	for i := range list {
		r := &list[i]
		r.except = nil
		if !r.Residual {
			continue
		}
		for _, j := range byRegime[r.Regime] {
			if j != i && !list[j].Residual {
				r.except = append(r.except, list[j].Jurisdictions...)
			}
		}
		slices.Sort(r.except)
		r.except = slices.Compact(r.except)
	}
	return rs
}

var defaultRules = sync.OnceValues(LoadRules)

// DefaultRules returns the embedded rules, parsed once. It panics only if
// the embedded files are invalid, which a test rules out.
func DefaultRules() *Rules {
	rs, err := defaultRules()
	if err != nil {
		panic("incident: embedded rules: " + err.Error())
	}
	return rs
}

// LoadRules parses and validates the embedded rules (rules/*.yaml).
func LoadRules() (*Rules, error) {
	names, err := fs.Glob(rulesFS, "rules/*.yaml")
	if err != nil {
		return nil, err
	}
	var files []ruleFile
	for _, n := range names {
		b, err := rulesFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		files = append(files, ruleFile{n, b})
	}
	return parseRuleFiles(files)
}

// LoadRulesFile reads an operator's rules: one YAML file, or a directory
// whose *.yaml files are read in name order. The result replaces the
// embedded set; use DefaultRules().With(r) to amend it instead.
func LoadRulesFile(path string) (*Rules, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	names := []string{path}
	if st.IsDir() {
		if names, err = filepath.Glob(filepath.Join(path, "*.yaml")); err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%s: no *.yaml rules files", path)
		}
	}
	var files []ruleFile
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		files = append(files, ruleFile{n, b})
	}
	return parseRuleFiles(files)
}

// ParseRules parses and validates one rules document; name is used in error
// messages. Unknown fields, bad anchors, unknown jurisdictions, calendars,
// zones, profile conditions and data categories, and duplicate ids are all
// reported together, each with file:line:column and the field's path.
func ParseRules(name string, data []byte) (*Rules, error) {
	return parseRuleFiles([]ruleFile{{name, data}})
}

type ruleFile struct {
	name string
	data []byte
}

// rulesDoc is the shape of a rules file.
type rulesDoc struct {
	Version int    `yaml:"version"`
	Rules   []Rule `yaml:"rules"`
}

// Limits that keep a rules file sane (and a fuzzer's clock finite).
const (
	maxRuleHours        = 24 * 3660
	maxRuleDays         = 3660
	maxRuleBusinessDays = 2600
)

func parseRuleFiles(files []ruleFile) (*Rules, error) {
	var (
		all  []Rule
		errs yamlx.Errors
		seen = map[string]string{} // id → file:line
	)
	for _, f := range files {
		rules, ferrs := parseRuleDoc(f.name, f.data, seen)
		errs = append(errs, ferrs...)
		all = append(all, rules...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return newRules(all), nil
}

func parseRuleDoc(file string, data []byte, seen map[string]string) ([]Rule, yamlx.Errors) {
	doc, err := yamlx.Parse(file, data)
	if err != nil {
		return nil, asErrors(file, err)
	}
	if doc.Root == nil || doc.Root.Kind == 0 {
		return nil, yamlx.Errors{{File: file, Message: fmt.Sprintf("empty rules file: want \"version: %d\" and rules:", RulesVersion)}}
	}
	var d rulesDoc
	if err := doc.Decode(&d); err != nil {
		return nil, asErrors(file, err)
	}
	var errs yamlx.Errors
	add := func(msg string, path ...any) { errs = append(errs, doc.At(msg, path...)) }
	if d.Version != RulesVersion {
		add(fmt.Sprintf("unsupported version %d (this weaklink reads version %d)", d.Version, RulesVersion), "version")
	}
	if len(d.Rules) == 0 {
		add("at least one rule is required", "rules")
	}
	tax := taxonomy.Default()
	for i := range d.Rules {
		r := &d.Rules[i]
		at := func(path ...any) []any { return append([]any{"rules", i}, path...) }
		n := doc.Find("rules", i)
		r.source = fmt.Sprintf("%s:%d", file, n.Line)
		switch {
		case r.ID == "":
			add("id is required", at()...)
		case !textutil.IsSlug(r.ID):
			add(fmt.Sprintf("id %q must be a lowercase slug (letters, digits, inner hyphens)", r.ID), at("id")...)
		default:
			if prev, dup := seen[r.ID]; dup {
				add(fmt.Sprintf("duplicate id %q (first defined at %s)", r.ID, prev), at("id")...)
			} else {
				seen[r.ID] = r.source
			}
		}
		for _, f := range [][2]string{{"regime", r.Regime}, {"title", r.Title}, {"audience", r.Audience},
			{"citation", r.Citation}, {"rationale", r.Rationale}} {
			if strings.TrimSpace(f[1]) == "" {
				add(f[0]+" is required", at()...)
			}
		}
		if !slices.Contains(Recipients, r.Notifies) {
			add(fmt.Sprintf("notifies %q is not one of %s%s", r.Notifies, joinAny(Recipients),
				textutil.DidYouMean(string(r.Notifies), asStrings(Recipients))), at("notifies")...)
		}
		if len(r.Jurisdictions) == 0 {
			add(`jurisdictions is required (ISO codes, "EU", or "*" for anywhere)`, at()...)
		}
		for j, code := range r.Jurisdictions {
			if msg := checkJurisdiction(code); msg != "" {
				add(msg, at("jurisdictions", j)...)
			} else if code == "*" && len(r.Jurisdictions) > 1 {
				add(`"*" (anywhere) stands alone`, at("jurisdictions", j)...)
			}
		}
		if r.Residual && slices.Contains(r.Jurisdictions, "*") {
			add(`a residual rule needs a jurisdiction other than "*"`, at("residual")...)
		}
		if msg := checkAnchor(r.Anchor, true); msg != "" && r.Anchor == "" {
			add(msg, at()...)
		} else if msg != "" {
			add(msg, at("anchor")...)
		}
		if msg := checkAnchor(r.FulfilledBy, false); msg != "" {
			add(msg, at("fulfilled_by")...)
		}
		for _, e := range checkDeadline(&r.Deadline, true) {
			add(e.msg, at(append([]any{"deadline"}, e.path...)...)...)
		}
		for j, c := range r.Triggers.Profile {
			if !slices.Contains(ProfileConditions, c) {
				add(fmt.Sprintf("unknown profile condition %q (want %s)%s", c, strings.Join(ProfileConditions, ", "),
					textutil.DidYouMean(c, ProfileConditions)), at("triggers", "profile", j)...)
			}
		}
		for j, set := range r.Triggers.Categories {
			if len(set.AllOf) == 0 && len(set.AnyOf) == 0 {
				add("a category set needs all_of or any_of", at("triggers", "categories", j)...)
			}
			for _, f := range []struct {
				name string
				keys []string
			}{{"all_of", set.AllOf}, {"any_of", set.AnyOf}} {
				for k, key := range f.keys {
					if err := tax.Check(key); err != nil {
						add(err.Error(), at("triggers", "categories", j, f.name, k)...)
					}
				}
			}
		}
		switch {
		case r.Triggers.Harm == "":
			add(fmt.Sprintf("harm is required: one of %s", joinAny(Harms)), at("triggers")...)
		case !slices.Contains(Harms, r.Triggers.Harm):
			add(fmt.Sprintf("harm %q is not one of %s%s", r.Triggers.Harm, joinAny(Harms),
				textutil.DidYouMean(string(r.Triggers.Harm), asStrings(Harms))), at("triggers", "harm")...)
		}
		for j := range r.Thresholds {
			th := &r.Thresholds[j]
			if strings.TrimSpace(th.Audience) == "" {
				add("audience is required", at("thresholds", j)...)
			}
			if th.MoreThan != nil && th.AtLeast != nil {
				add("give more_than or at_least, not both", at("thresholds", j)...)
			}
			for _, v := range []*int64{th.MoreThan, th.AtLeast} {
				if v != nil && *v < 0 {
					add("a count cannot be negative", at("thresholds", j)...)
				}
			}
			for k, code := range th.Jurisdictions {
				if msg := checkJurisdiction(code); msg != "" {
					add(msg, at("thresholds", j, "jurisdictions", k)...)
				}
			}
			if th.Deadline != nil {
				for _, e := range checkDeadline(th.Deadline, false) {
					add(e.msg, at(append([]any{"thresholds", j, "deadline"}, e.path...)...)...)
				}
			}
		}
		if _, err := time.Parse(time.DateOnly, r.Verified); err != nil {
			add(fmt.Sprintf("verified %q must be the date the facts were checked, YYYY-MM-DD", r.Verified), at("verified")...)
		}
	}
	slices.SortStableFunc(errs, func(a, b yamlx.Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Path, b.Path)
	})
	return d.Rules, errs
}

func asErrors(file string, err error) yamlx.Errors {
	if es, ok := err.(yamlx.Errors); ok {
		return es
	}
	return yamlx.Errors{{File: file, Message: err.Error()}}
}

type fieldError struct {
	msg  string
	path []any
}

func checkDeadline(d *Deadline, allowContract bool) []fieldError {
	var errs []fieldError
	fixed := 0
	for _, f := range []struct {
		name  string
		v     int
		limit int
	}{{"hours", d.Hours, maxRuleHours}, {"days", d.Days, maxRuleDays}, {"business_days", d.BusinessDays, maxRuleBusinessDays}} {
		switch {
		case f.v < 0:
			errs = append(errs, fieldError{f.name + " cannot be negative", []any{f.name}})
		case f.v > f.limit:
			errs = append(errs, fieldError{fmt.Sprintf("%s %d is more than %d", f.name, f.v, f.limit), []any{f.name}})
		case f.v > 0:
			fixed++
		}
	}
	if d.ContractHours {
		if !allowContract {
			errs = append(errs, fieldError{"contract_hours belongs in a rule's deadline", []any{"contract_hours"}})
		}
		fixed++
	}
	switch {
	case fixed > 1:
		errs = append(errs, fieldError{"give one of hours, days, business_days or contract_hours", nil})
	case fixed == 0 && strings.TrimSpace(d.Qualitative) == "":
		errs = append(errs, fieldError{"a deadline needs hours, days, business_days, contract_hours or qualitative (\"without undue delay\")", nil})
	}
	d.cal = usFederal
	if d.Calendar != "" {
		c, ok := calendarNamed(d.Calendar)
		if !ok {
			errs = append(errs, fieldError{fmt.Sprintf("calendar %q is not one of %s%s", d.Calendar, strings.Join(Calendars, ", "),
				textutil.DidYouMean(d.Calendar, Calendars)), []any{"calendar"}})
		}
		if d.BusinessDays == 0 {
			errs = append(errs, fieldError{"calendar applies to business_days only", []any{"calendar"}})
		}
		d.cal = c
	}
	switch {
	case d.TimeZone != "":
		loc, err := time.LoadLocation(d.TimeZone)
		if err != nil || d.TimeZone == "Local" {
			errs = append(errs, fieldError{fmt.Sprintf("time_zone %q is not an IANA zone (America/New_York)", d.TimeZone), []any{"time_zone"}})
			loc = time.UTC
		}
		d.loc = loc
	case d.BusinessDays > 0 && d.cal.loc != nil:
		d.loc = d.cal.loc()
	default:
		d.loc = time.UTC
	}
	return errs
}

func checkAnchor(a Anchor, required bool) string {
	if a == "" {
		if required {
			return fmt.Sprintf("anchor is required: one of %s", joinAny(Anchors))
		}
		return ""
	}
	if !slices.Contains(Anchors, a) {
		return fmt.Sprintf("unknown anchor %q (want one of %s)%s", a, joinAny(Anchors), textutil.DidYouMean(string(a), asStrings(Anchors)))
	}
	return ""
}

func asStrings[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func joinAny[T ~string](xs []T) string { return strings.Join(asStrings(xs), ", ") }

// Jurisdictions.

// EEAMembers are the member states the "EU" jurisdiction stands for: the 27
// EU member states and the EEA states Iceland, Liechtenstein and Norway,
// where the GDPR applies too. Greece is GR (ISO), not EL (EU usage).
var EEAMembers = []string{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
	"IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
}

// iso3166 holds the ISO 3166-1 alpha-2 country codes, plus XK (Kosovo,
// user-assigned but in common use).
const iso3166 = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET
FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO
IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH
MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW`

// usSubdivisions are the ISO 3166-2:US codes of the 50 states, the
// District of Columbia and the inhabited territories, whose breach laws
// vary.
const usSubdivisions = `AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM
NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP`

// caSubdivisions are the ISO 3166-2:CA codes of the provinces and
// territories.
const caSubdivisions = `AB BC MB NB NL NS NT NU ON PE QC SK YT`

var knownJurisdictions = sync.OnceValue(func() []string {
	out := []string{"*", "EU"}
	out = append(out, strings.Fields(iso3166)...)
	for _, s := range strings.Fields(usSubdivisions) {
		out = append(out, "US-"+s)
	}
	for _, s := range strings.Fields(caSubdivisions) {
		out = append(out, "CA-"+s)
	}
	slices.Sort(out)
	return out
})

// KnownJurisdiction reports whether code is a jurisdiction rules can name:
// "*", "EU", an ISO 3166-1 alpha-2 code, or a US or Canadian subdivision
// (US-CA, CA-QC).
func KnownJurisdiction(code string) bool {
	_, ok := slices.BinarySearch(knownJurisdictions(), code)
	return ok
}

func checkJurisdiction(code string) string {
	if KnownJurisdiction(code) {
		return ""
	}
	return fmt.Sprintf("unknown jurisdiction %q (want an ISO 3166 code such as GB or US-CA, EU, or *)%s",
		code, textutil.DidYouMean(code, knownJurisdictions()))
}

// jurisdictionCovers reports whether rule jurisdiction j includes the place
// with exposure key k: "*" everything, "EU" its member states (and their
// subdivisions), "US" every "US-XX".
func jurisdictionCovers(j, k string) bool {
	switch {
	case j == "*" || j == k:
		return true
	case strings.HasPrefix(k, j+"-"):
		return true
	case j == "EU":
		country, _, _ := strings.Cut(k, "-")
		return slices.Contains(EEAMembers, country)
	}
	return false
}

// jurisdictionContains reports whether exposure key k names a wider area
// that contains rule jurisdiction j without being inside it: people counted
// under "US" may live in US-TX.
func jurisdictionContains(k, j string) bool {
	if j == "*" || j == k {
		return false
	}
	return strings.HasPrefix(j, k+"-")
}
