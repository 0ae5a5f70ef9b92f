package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weaklink/weaklink/internal/gateway/adapter"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// Decision is what the policy did with one field, and why.
type Decision struct {
	Message  int    `json:"message"`
	Path     string `json:"path"`
	Category string `json:"category,omitempty"`
	Action   string `json:"action"`
	Reason   string `json:"reason"`
}

// Outcome is the effect of a policy on one batch.
type Outcome struct {
	// Decisions, one per field, with paths and reasons, are kept only when
	// explaining; Counts always holds how many fields each action took, by
	// category (for metrics and the ledger).
	Decisions []Decision
	Counts    map[ActionCategory]int
	// Sent are, per remaining message, the categories of the data left in it
	// after the policy (what the vendor actually receives).
	Sent [][]string
	// Subjects are, per remaining message, the customer's id for the person
	// as found in the payload before the policy ("" when none).
	Subjects []string
	// DroppedMessages counts messages the policy removed (drop_events).
	DroppedMessages int
}

// protocolFields are fields of each wire format that carry no personal data:
// project tokens and write keys (they name the customer's project, not a
// person), deduplication keys, timestamps and library versions. They still
// obey field rules and the policy's mode, but they are never classified: a
// category rule such as user.authorization: drop does not strip the project
// token, and the ledger does not count a project token as a person's
// credentials.
var protocolFields = map[string][]string{
	"mixpanel":  {"token", "$token", "time", "$time", "$insert_id", "mp_lib", "$lib_version", "$ignore_time", "$ignore_alias", "$group_key"},
	"segment":   {"writeKey", "messageId", "timestamp", "sentAt", "originalTimestamp", "type", "version", "integrations", "library"},
	"amplitude": {"api_key", "insert_id", "time", "event_type", "event_id", "session_id", "library"},
	"ga4":       {"timestamp_micros", "non_personalized_ads", "engagement_time_msec", "session_id", "v", "tid", "gtm", "_p", "en"},
}

// ActionCategory keys Outcome.Counts.
type ActionCategory struct{ Action, Category string }

// Engine applies policies.
type Engine struct {
	classifier *taxonomy.Classifier
	macs       sync.Pool // keyed HMAC-SHA256 states, reset between uses
}

// NewEngine makes an engine with the key for hash actions.
func NewEngine(hashKey []byte) *Engine {
	key := slices.Clone(hashKey)
	e := &Engine{classifier: taxonomy.DefaultClassifier()}
	e.macs.New = func() any { return hmac.New(sha256.New, key) }
	return e
}

// Hash is the keyed pseudonym of a value: HMAC-SHA256 under the gateway's
// key, 128 bits in hex. The vendor gets a stable id it cannot reverse.
func (e *Engine) Hash(v string) string {
	m := e.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(v))
	var sum [sha256.Size]byte
	out := hex.EncodeToString(m.Sum(sum[:0])[:16])
	e.macs.Put(m)
	return out
}

// rulesFor merges the policy's common rules with its rules for a kind,
// once per policy and kind.
func (p *Policy) rulesFor(k adapter.Kind) Rules {
	p.once.Do(func() {
		p.byKind = map[adapter.Kind]Rules{}
		for _, kind := range []adapter.Kind{adapter.KindEvent, adapter.KindProfile, adapter.KindGroup, adapter.KindAlias, ""} {
			p.byKind[kind] = p.mergeRules(kind)
		}
	})
	if r, ok := p.byKind[k]; ok {
		return r
	}
	return p.byKind[""]
}

func (p *Policy) mergeRules(k adapter.Kind) Rules {
	var specific *Rules
	switch k {
	case adapter.KindEvent:
		specific = p.Event
	case adapter.KindProfile, adapter.KindAlias:
		specific = p.Profile
	case adapter.KindGroup:
		specific = p.Group
	}
	out := Rules{Fields: map[string]Rule{}, Categories: map[string]Rule{}, DropEvents: slices.Clone(p.DropEvents)}
	for k, r := range p.Fields {
		out.Fields[k] = r
	}
	for k, r := range p.Categories {
		out.Categories[k] = r
	}
	if specific != nil {
		for k, r := range specific.Fields {
			out.Fields[k] = r
		}
		for k, r := range specific.Categories {
			out.Categories[k] = r
		}
		out.DropEvents = append(out.DropEvents, specific.DropEvents...)
	}
	return out
}

// categoryRule is the most specific category rule covering cat.
func (r Rules) categoryRule(cat string) (string, Rule, bool) {
	best, bestRule, found := "", Rule{}, false
	for key, rule := range r.Categories {
		if taxonomy.Covers(key, cat) && len(key) > len(best) {
			best, bestRule, found = key, rule, true
		}
	}
	return best, bestRule, found
}

// Apply edits the batch in place: every message's fields are kept, dropped
// or transformed by the policy, and the batch is told whether the vendor may
// use the client's IP address.
func (e *Engine) Apply(p *Policy, b *adapter.Batch, wireFormat string) Outcome {
	return e.apply(p, b, wireFormat, false)
}

// apply is Apply; with explain, decisions carry the field's path and a
// reason, and fields are visited in key order (for people). Without it, the
// proxy's hot path records only what metrics and the ledger need.
func (e *Engine) apply(p *Policy, b *adapter.Batch, wireFormat string, explain bool) Outcome {
	out := Outcome{Counts: map[ActionCategory]int{}}
	ruleMemo := map[adapter.Kind]map[string]catRule{}
	keyCats := map[string]keyCategory{} // field names repeat across a batch's messages
	protocol := protocolFields[wireFormat]
	b.DropClientIP = p.ClientIP != ActKeep
	kept := b.Messages[:0]
	for i, m := range b.Messages {
		rules := p.rulesFor(m.Kind)
		if m.Kind == adapter.KindEvent && slices.Contains(rules.DropEvents, m.Name) {
			out.Counts[ActionCategory{ActDrop, ""}]++
			if explain {
				out.Decisions = append(out.Decisions, Decision{Message: i, Action: ActDrop, Path: "event", Reason: why{code: whyDropEvents, arg: m.Name}.String()})
			}
			out.DroppedMessages++
			continue
		}
		subject := ""
		if m.Subject != nil {
			subject = adapter.String(m.Object, m.Subject)
		}
		memo := ruleMemo[m.Kind]
		if memo == nil {
			memo = map[string]catRule{}
			ruleMemo[m.Kind] = memo
		}
		mp := &messagePolicy{e: e, p: p, rules: rules, index: i, out: &out, sent: map[string]bool{}, protocol: protocol, explain: explain, memo: memo, keyCats: keyCats}
		covered := map[string]bool{}
		for _, path := range m.Props {
			covered[path.String()] = true
			props := adapter.Map(m.Object, path)
			prefix := mp.join(path.String(), "")
			for _, key := range mp.keys(props) {
				mp.field(props, key, mp.join(prefix, key))
			}
		}
		for _, path := range m.Fields {
			covered[path.String()] = true
			parent := m.Object
			if len(path) > 1 {
				parent = adapter.Map(m.Object, path[:len(path)-1])
			}
			if parent != nil {
				if _, ok := parent[path[len(path)-1]]; ok {
					mp.field(parent, path[len(path)-1], mp.join(path.String(), ""))
				}
			}
		}
		// The envelope (event name, token, time) is structure, not data: it
		// passes, but category rules still reach into it.
		mp.scrubEnvelope(m.Object, "", covered)
		sent := make([]string, 0, len(mp.sent))
		for c := range mp.sent {
			sent = append(sent, c)
		}
		slices.Sort(sent)
		out.Sent = append(out.Sent, sent)
		out.Subjects = append(out.Subjects, subject)
		kept = append(kept, m)
	}
	b.Messages = kept
	return out
}

type messagePolicy struct {
	e        *Engine
	p        *Policy
	rules    Rules
	index    int
	out      *Outcome
	sent     map[string]bool
	protocol []string
	explain  bool
	memo     map[string]catRule // category rules already looked up in this batch
	keyCats  map[string]keyCategory
}

// keyCategory is what a field name says: by its name, and as data itself
// (an email used as a key).
type keyCategory struct{ byName, asData string }

func (mp *messagePolicy) keyCategory(key string) keyCategory {
	if kc, ok := mp.keyCats[key]; ok {
		return kc
	}
	var kc keyCategory
	if !slices.Contains(mp.protocol, key) {
		if f, ok := mp.e.classifier.FieldName(key); ok {
			kc.byName = f.Category
		}
		kc.asData = mp.valueCategory("", key)
	}
	mp.keyCats[key] = kc
	return kc
}

type catRule struct {
	key   string
	rule  Rule
	found bool
}

// categoryRule is rules.categoryRule, remembered for the batch.
func (mp *messagePolicy) categoryRule(cat string) (string, Rule, bool) {
	if r, ok := mp.memo[cat]; ok {
		return r.key, r.rule, r.found
	}
	k, r, found := mp.rules.categoryRule(cat)
	mp.memo[cat] = catRule{k, r, found}
	return k, r, found
}

// why is a decision's reason, formatted only when explaining.
type why struct {
	code       int
	arg, extra string
}

const (
	whyField = iota
	whyCategory
	whyCategoryNested
	whyCategoryEnvelope
	whyNotAllowed
	whyDenyMode
	whyDropEvents
	whyText
)

func (w why) String() string {
	var s string
	switch w.code {
	case whyField:
		s = "field rule for " + strconv.Quote(w.arg)
	case whyCategory:
		s = "category rule for " + w.arg
	case whyCategoryNested:
		s = "category rule for " + w.arg + " (nested)"
	case whyCategoryEnvelope:
		s = "category rule for " + w.arg + " (envelope)"
	case whyNotAllowed:
		s = "not in the allow-list"
	case whyDenyMode:
		s = "deny-list mode keeps what no rule names"
	case whyDropEvents:
		s = fmt.Sprintf("event %q is in drop_events", w.arg)
	case whyText:
		s = "category rule for " + w.arg + " (inside text, bytes " + w.extra + ")"
	}
	if w.code != whyText && w.extra != "" {
		s += "; " + w.extra
	}
	return s
}

func (mp *messagePolicy) decide(path, category, action string, reason why) {
	mp.out.Counts[ActionCategory{action, category}]++
	if mp.explain {
		mp.out.Decisions = append(mp.out.Decisions, Decision{Message: mp.index, Category: category, Action: action, Path: path, Reason: reason.String()})
	}
}

// join builds a field path, only when explaining.
func (mp *messagePolicy) join(prefix, key string) string {
	if !mp.explain {
		return ""
	}
	if key == "" {
		return prefix
	}
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// keys are a map's keys, sorted when explaining (people read them).
func (mp *messagePolicy) keys(m map[string]any) []string {
	if mp.explain {
		return sortedKeys(m)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// field applies the policy to parent[key].
func (mp *messagePolicy) field(parent map[string]any, key, path string) {
	value := parent[key]
	category := mp.classify(key, value)
	if rule, ok := mp.rules.Fields[key]; ok {
		mp.act(parent, key, path, category, rule, why{code: whyField, arg: key})
		return
	}
	// A category rule applies to what the name says, to what the whole value
	// is (an email under an innocent name), or to what the key itself is (an
	// email used as a property name).
	for _, cat := range []string{category, mp.valueCategory(key, value), mp.keyCategory(key).asData} {
		if cat == "" {
			continue
		}
		if ruleKey, rule, ok := mp.categoryRule(cat); ok {
			mp.act(parent, key, path, cat, rule, why{code: whyCategory, arg: ruleKey})
			return
		}
	}
	if mp.p.Mode == "allow" {
		delete(parent, key)
		mp.decide(path, category, ActDrop, why{code: whyNotAllowed})
		return
	}
	mp.keep(parent, key, path, category, why{code: whyDenyMode}, true)
}

// classify is the category of a field by its name, else by its value;
// protocol fields have none.
func (mp *messagePolicy) classify(key string, value any) string {
	if slices.Contains(mp.protocol, key) {
		return ""
	}
	if c := mp.keyCategory(key).byName; c != "" {
		return c
	}
	return mp.valueCategory(key, value)
}

// valueCategory is the category of a string value that is, as a whole, one
// piece of personal data (an email, a phone number, an IP address).
func (mp *messagePolicy) valueCategory(key string, value any) string {
	s, ok := value.(string)
	if !ok || slices.Contains(mp.protocol, key) {
		return ""
	}
	for _, f := range mp.e.classifier.Value(s) {
		if f.Category != "" && f.Start == 0 && f.End == len(s) {
			return f.Category
		}
	}
	return ""
}

// keep forwards parent[key]. Category rules still reach into nested values;
// a string the author named in a field rule (explicit) is kept whole.
func (mp *messagePolicy) keep(parent map[string]any, key, path, category string, reason why, scrubText bool) {
	if _, isString := parent[key].(string); !isString || scrubText {
		parent[key] = mp.scrub(parent[key], path)
	}
	mp.note(category, parent[key])
	mp.decide(path, category, ActKeep, reason)
}

// note records what a kept value carries for the ledger.
func (mp *messagePolicy) note(category string, v any) {
	if category != "" {
		mp.sent[category] = true
	}
	if s, ok := v.(string); ok {
		for _, f := range mp.e.classifier.Value(s) {
			if f.Category != "" {
				mp.sent[f.Category] = true
			}
		}
	}
}

// act applies one rule to parent[key].
func (mp *messagePolicy) act(parent map[string]any, key, path, category string, rule Rule, reason why) {
	v := parent[key]
	switch rule.Action {
	case ActKeep:
		mp.keep(parent, key, path, category, reason, false)
		return
	case ActDrop:
		delete(parent, key)
	case ActRedact:
		parent[key] = "[redacted]"
	case ActHash:
		parent[key] = mp.e.Hash(scalarString(v))
		if category == "" || taxonomy.Covers("user.unique_id", category) || taxonomy.Covers("user.device.device_id", category) {
			mp.sent["user.unique_id.pseudonymous"] = true
		} else {
			mp.sent[category] = true // a keyed hash of an email is still personal data
		}
	case ActTruncateIP:
		if t, ok := truncateIP(scalarString(v)); ok {
			parent[key] = t
			mp.sent["user.device.ip_address"] = true
		} else {
			delete(parent, key)
			reason.extra = "not an IP address, dropped"
			mp.decide(path, category, ActDrop, reason)
			return
		}
	case ActGeneralize:
		g, ok := generalize(key, v, rule.To)
		if !ok {
			delete(parent, key)
			reason.extra = "finer than " + rule.To + ", dropped"
			mp.decide(path, category, ActDrop, reason)
			return
		}
		parent[key] = g
		if category != "" {
			if strings.HasPrefix(category, "user.location") || strings.HasPrefix(category, "user.contact.address") {
				mp.sent["user.location.imprecise"] = true
			} else {
				mp.sent[category] = true
			}
		}
	case ActBucket:
		b, ok := bucket(v, rule)
		if !ok {
			delete(parent, key)
			reason.extra = "not a number or date, dropped"
			mp.decide(path, category, ActDrop, reason)
			return
		}
		parent[key] = b
		if category != "" {
			mp.sent[category] = true
		}
	}
	mp.decide(path, category, rule.Action, reason)
}

// scrub applies category rules inside a kept value: nested fields and spans
// of free text.
func (mp *messagePolicy) scrub(v any, path string) any {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range mp.keys(x) {
			sub := mp.join(path, k)
			cat := mp.classify(k, x[k])
			if cat == "" {
				cat = mp.keyCategory(k).asData
			}
			if cat != "" {
				if ruleKey, rule, ok := mp.categoryRule(cat); ok && rule.Action != ActKeep {
					mp.act(x, k, sub, cat, rule, why{code: whyCategoryNested, arg: ruleKey})
					continue
				}
			}
			x[k] = mp.scrub(x[k], sub)
			mp.note(cat, x[k])
		}
		return x
	case []any:
		for i := range x {
			sub := ""
			if mp.explain {
				sub = fmt.Sprintf("%s[%d]", path, i)
			}
			x[i] = mp.scrub(x[i], sub)
		}
		return x
	case string:
		return mp.scrubText(x, path)
	}
	return v
}

// scrubText replaces spans of free text that a category rule drops, redacts
// or hashes.
func (mp *messagePolicy) scrubText(s, path string) string {
	findings := mp.e.classifier.Value(s)
	if len(findings) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, f := range findings {
		if f.Category == "" || f.Start < last {
			continue
		}
		ruleKey, rule, ok := mp.categoryRule(f.Category)
		if !ok || rule.Action == ActKeep {
			continue
		}
		b.WriteString(s[last:f.Start])
		if rule.Action == ActHash {
			b.WriteString(mp.e.Hash(s[f.Start:f.End]))
		} else {
			b.WriteString("[redacted]")
		}
		last = f.End
		mp.decide(path, f.Category, ActRedact, why{code: whyText, arg: ruleKey, extra: fmt.Sprintf("%d–%d", f.Start, f.End)})
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// scrubEnvelope reaches into parts of the message that are neither property
// maps nor fields, with category rules only.
func (mp *messagePolicy) scrubEnvelope(obj map[string]any, prefix string, covered map[string]bool) {
	for _, k := range mp.keys(obj) {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if covered[p] {
			continue
		}
		cat := mp.classify(k, obj[k])
		if rule, ok := mp.rules.Fields[k]; ok {
			// An explicit field rule governs the envelope too: a project token
			// named "token" must pass even where credentials are dropped.
			mp.act(obj, k, p, cat, rule, why{code: whyField, arg: k})
			continue
		}
		if sub, ok := obj[k].(map[string]any); ok {
			mp.scrubEnvelope(sub, p, covered)
			continue
		}
		if cat != "" {
			if ruleKey, rule, ok := mp.categoryRule(cat); ok && rule.Action != ActKeep {
				mp.act(obj, k, p, cat, rule, why{code: whyCategoryEnvelope, arg: ruleKey})
				continue
			}
		}
		switch v := obj[k].(type) {
		case string:
			obj[k] = mp.scrubText(v, mp.join(p, ""))
		case []any:
			obj[k] = mp.scrub(v, mp.join(p, "")) // lists in the envelope are searched too
		}
		mp.note(cat, obj[k])
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// truncateIP keeps the network of an address: /24 for IPv4, /48 for IPv6.
func truncateIP(s string) (string, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	bits := 24
	if a.Is6() && !a.Is4In6() {
		bits = 48
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return "", false
	}
	return p.Addr().String(), true
}

var locationLevel = map[string]int{"city": 3, "region": 2, "country": 1}

// generalize coarsens a value to a level. weaklink has no geographic
// database: a location field finer than the level is dropped (ok false), and
// one at or above it is kept, so a policy of "to: country" keeps
// mp_country_code and drops $city and $region.
func generalize(key string, v any, to string) (any, bool) {
	if want, ok := locationLevel[to]; ok {
		if have := fieldLocationLevel(key); have > want {
			return nil, false
		}
		return v, true
	}
	s := scalarString(v)
	switch to {
	case "family":
		return browserFamily(s), true
	case "major":
		major, _, _ := strings.Cut(s, ".")
		return major, true
	case "day", "month", "year":
		return truncateDate(s, to)
	}
	return nil, false
}

func fieldLocationLevel(key string) int {
	k := strings.ToLower(strings.TrimLeft(key, "$"))
	switch {
	case strings.Contains(k, "city"), strings.Contains(k, "postal"), strings.Contains(k, "zip"), strings.Contains(k, "lat"), strings.Contains(k, "lon"), strings.Contains(k, "lng"), strings.Contains(k, "street"), k == "dma":
		return 3
	case strings.Contains(k, "region"), strings.Contains(k, "state"), strings.Contains(k, "province"):
		return 2
	}
	return 1
}

// browserFamily reduces a user agent or browser string to its family.
func browserFamily(s string) string {
	for _, f := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"},
		{"CriOS/", "Chrome"}, {"Safari/", "Safari"}, {"MSIE", "Internet Explorer"}, {"Trident/", "Internet Explorer"},
	} {
		if strings.Contains(s, f.token) {
			return f.name
		}
	}
	if name, _, ok := strings.Cut(s, " "); ok {
		return name // "Chrome 131" → Chrome
	}
	return s
}

func truncateDate(s, unit string) (any, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			switch unit {
			case "year":
				return t.Format("2006"), true
			case "month":
				return t.Format("2006-01"), true
			default:
				return t.Format("2006-01-02"), true
			}
		}
	}
	return nil, false
}

// bucket replaces a number by its range, or a date by its day, month or year.
func bucket(v any, r Rule) (any, bool) {
	if r.Unit != "" {
		return truncateDate(scalarString(v), r.Unit)
	}
	f, err := strconv.ParseFloat(scalarString(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	if len(r.Bounds) > 0 {
		i, _ := slices.BinarySearch(r.Bounds, f)
		if i < len(r.Bounds) && r.Bounds[i] == f {
			i++
		}
		switch {
		case i == 0:
			return "<" + num(r.Bounds[0]), true
		case i == len(r.Bounds):
			return "≥" + num(r.Bounds[i-1]), true
		}
		return num(r.Bounds[i-1]) + "–" + num(r.Bounds[i]), true
	}
	lo := math.Floor(f/r.Size) * r.Size
	return num(lo) + "–" + num(lo+r.Size), true
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
