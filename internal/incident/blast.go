package incident

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// LedgerRow is one vendor having received one category of data about one
// subject, with where the subject lives when that is known.
type LedgerRow struct {
	Vendor, Subject, Category string
	FirstSeen, LastSeen       time.Time
	Jurisdiction, ExternalID  string
}

// Sources is what the blast radius reads. The service fills it from the
// store; tests fill it by hand.
type Sources struct {
	Vendors []inventory.Vendor
	Flows   []inventory.Flow
	// Ledger streams the ledger rows of vendors seen within [from, to]
	// (zero: open), every subject's rows adjacent, without holding them in
	// memory.
	Ledger func(ctx context.Context, vendors []string, from, to time.Time, fn func(LedgerRow) error) error
}

// AffectedVendor is a vendor of ours whose data the breach reached: the
// breached vendor itself, or one that uses it as a subprocessor.
type AffectedVendor struct {
	Vendor string `json:"vendor"`
	Name   string `json:"name"`
	// Via is the subprocessor chain from this vendor to the breached one,
	// empty when this vendor was breached itself.
	Via []string `json:"via,omitempty"`
	// Systems send it data (limited to the incident's systems, if set;
	// the ledger has no system, so that limit applies to flows only).
	Systems []string `json:"systems"`
	// Flows are the ids of the flows involved.
	Flows []string `json:"flows"`
	// Declared, Discovered and Observed are the categories its flows carry,
	// by how weaklink knows; Ledger is what the gateway recorded sending it
	// within the window.
	Declared   []string `json:"declared,omitempty"`
	Discovered []string `json:"discovered,omitempty"`
	Observed   []string `json:"observed,omitempty"`
	Ledger     []string `json:"ledger,omitempty"`
	// EstimatedSubjects sums its flows' estimates, for vendors the gateway
	// does not see.
	EstimatedSubjects int64 `json:"estimated_subjects,omitempty"`
}

// CategoryCount counts the people whose data of one category was exposed.
type CategoryCount struct {
	Category string `json:"category"`
	Subjects int64  `json:"subjects"`
}

// BlastRadius is what a breach exposed: which of our data, from which
// systems, about how many people and where they live.
type BlastRadius struct {
	Incident string           `json:"incident"`
	Breached string           `json:"breached"`
	Affected []AffectedVendor `json:"affected"`
	From     time.Time        `json:"from,omitzero"`
	To       time.Time        `json:"to,omitzero"`
	// Stated are the categories the vendor says were exposed.
	Stated []string `json:"stated"`
	// Ledger are the categories the gateway recorded sending the affected
	// vendors within the window: what they really received.
	Ledger []string `json:"ledger"`
	// Inventory are the categories the affected vendors' flows carry
	// (declared, discovered and observed), whatever the window.
	Inventory []string `json:"inventory"`
	// Exposed is Stated within what was sent (the narrower key of each
	// overlapping pair; everything sent when the vendor stated nothing).
	// What was sent is the ledger when it has rows in the window, else the
	// inventory's flows.
	Exposed []string `json:"exposed"`
	// PossiblyExposed, when the ledger has rows, are stated categories that
	// flows carry but the gateway did not see in the window: check whether
	// they reach the vendor around the gateway.
	PossiblyExposed []string `json:"possibly_exposed"`
	// Unmentioned are categories we sent (ledger or flows) that the
	// statement does not cover: ask the vendor about them.
	Unmentioned []string `json:"unmentioned"`
	// StatedNotSent are categories the vendor named that we never sent it.
	StatedNotSent []string `json:"stated_not_sent"`
	Systems       []string `json:"systems"`
	// Subjects counts people with exposed data in the ledger; Estimated is
	// the inventory's estimate when there is no ledger data.
	Subjects       int64            `json:"subjects"`
	Estimated      int64            `json:"estimated_subjects,omitempty"`
	Rows           int64            `json:"ledger_rows"`
	ByCategory     []CategoryCount  `json:"by_category"`
	ByJurisdiction map[string]int64 `json:"by_jurisdiction"`
	// UnmentionedSubjects counts people of whom we sent only categories the
	// statement does not cover: affected if the vendor widens its scope.
	UnmentionedSubjects int64 `json:"unmentioned_subjects"`
}

// Exposure is the blast radius in the form the clocks read.
func (b *BlastRadius) Exposure() Exposure {
	subjects := b.Subjects
	if b.Rows == 0 {
		// No ledger data in the window: the inventory's estimate stands in.
		subjects = b.Estimated
	}
	by := b.ByJurisdiction
	if len(by) == 0 && subjects > 0 {
		by = map[string]int64{Unknown: subjects}
	}
	return Exposure{Categories: b.Exposed, Subjects: subjects, ByJurisdiction: by}
}

// Unknown is the jurisdiction of people whose residence is not recorded.
const Unknown = "unknown"

// Affected is one person the breach exposed.
type Affected struct {
	Subject      string    `json:"subject"`
	ExternalID   string    `json:"external_id,omitempty"`
	Jurisdiction string    `json:"jurisdiction"`
	Vendors      []string  `json:"vendors"`
	Categories   []string  `json:"categories"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
}

// Recipient is a as a row of the recipient list.
func (a Affected) Recipient() PackRecipient {
	return PackRecipient{Subject: a.Subject, ExternalID: a.ExternalID, Jurisdiction: a.Jurisdiction,
		Categories: a.Categories, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen}
}

// ComputeBlastRadius works out what in exposed. emit, when not nil,
// receives every affected person as the ledger streams past, in subject
// order: memory does not grow with the ledger.
func ComputeBlastRadius(ctx context.Context, in *Incident, src Sources, emit func(Affected) error) (*BlastRadius, error) {
	b := &BlastRadius{Incident: in.ID, Breached: in.Vendor, From: in.WindowFrom, To: in.WindowTo,
		Stated: sortedSet(in.Categories), ByJurisdiction: map[string]int64{}}
	b.Affected = affectedVendors(in.Vendor, src.Vendors)
	index := map[string]*AffectedVendor{}
	var ids []string
	for i := range b.Affected {
		index[b.Affected[i].Vendor] = &b.Affected[i]
		ids = append(ids, b.Affected[i].Vendor)
	}
	inv, led := map[string]bool{}, map[string]bool{}
	systems := map[string]bool{}
	for _, f := range src.Flows {
		av := index[f.Vendor]
		if av == nil || (len(in.Systems) > 0 && !slices.Contains(in.Systems, f.System)) {
			continue
		}
		av.Flows = append(av.Flows, f.ID)
		av.Systems = appendNew(av.Systems, f.System)
		av.EstimatedSubjects += f.EstimatedSubjects
		systems[f.System] = true
		for _, c := range f.Categories {
			inv[c] = true
			switch f.Source {
			case inventory.SourceDiscovered:
				av.Discovered = appendNew(av.Discovered, c)
			case inventory.SourceObserved:
				av.Observed = appendNew(av.Observed, c)
			default:
				av.Declared = appendNew(av.Declared, c)
			}
		}
	}

	// One pass over the ledger: each subject's rows are adjacent. The pass
	// runs once a row over millions of rows, so it reuses what it can:
	// one accumulator, and the exposed categories of the last set of
	// categories seen (neighbours often share theirs).
	catSubjects := map[string]int64{}
	var cur *subjectAcc
	var acc subjectAcc
	memo := exposedMemo{by: catSubjects}
	flush := func() error {
		if cur == nil {
			return nil
		}
		cur = nil
		exposed := memo.exposed(b.Stated, acc.categories)
		if len(exposed) == 0 {
			b.UnmentionedSubjects++
			return nil
		}
		b.Subjects++
		memo.subjects++
		j := acc.jurisdiction
		if j == "" {
			j = Unknown
		}
		b.ByJurisdiction[j]++
		if emit == nil {
			return nil
		}
		return emit(Affected{Subject: acc.subject, ExternalID: acc.externalID, Jurisdiction: j,
			Vendors: slices.Clone(acc.vendors), Categories: slices.Clone(exposed), FirstSeen: acc.first, LastSeen: acc.last})
	}
	var lastVendor string
	var lastAV *AffectedVendor
	if src.Ledger != nil && len(ids) > 0 {
		err := src.Ledger(ctx, ids, in.WindowFrom, in.WindowTo, func(r LedgerRow) error {
			b.Rows++
			if cur != nil && r.Subject < cur.subject {
				return fmt.Errorf("ledger rows out of subject order (%q after %q): the blast radius needs each subject's rows together", r.Subject, cur.subject)
			}
			if lastAV == nil || r.Vendor != lastVendor {
				lastVendor, lastAV = r.Vendor, index[r.Vendor]
			}
			if lastAV != nil {
				lastAV.Ledger = appendNew(lastAV.Ledger, r.Category) // added to led below
			} else {
				led[r.Category] = true
			}
			if cur != nil && cur.subject != r.Subject {
				if err := flush(); err != nil {
					return err
				}
			}
			if cur == nil {
				acc.reset(r)
				cur = &acc
			}
			cur.add(r)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if err := flush(); err != nil {
			return nil, err
		}
		memo.flush()
	}
	for i := range b.Affected {
		for _, c := range b.Affected[i].Ledger {
			led[c] = true
		}
	}

	b.Ledger, b.Inventory = keys(led), keys(inv)
	b.Systems = keys(systems)
	if b.Rows > 0 {
		b.Exposed = exposedCategories(b.Stated, b.Ledger)
		for _, c := range exposedCategories(b.Stated, b.Inventory) {
			if !overlapsAny(c, b.Exposed) {
				b.PossiblyExposed = append(b.PossiblyExposed, c)
			}
		}
	} else {
		b.Exposed = exposedCategories(b.Stated, b.Inventory)
	}
	sent := sortedSet(append(slices.Clone(b.Ledger), b.Inventory...))
	for _, c := range sent {
		if len(b.Stated) > 0 && !coveredByAny(c, b.Stated) {
			b.Unmentioned = append(b.Unmentioned, c)
		}
	}
	for _, c := range b.Stated {
		if !overlapsAny(c, sent) {
			b.StatedNotSent = append(b.StatedNotSent, c)
		}
	}
	for _, c := range keys(catSubjects) {
		b.ByCategory = append(b.ByCategory, CategoryCount{Category: c, Subjects: catSubjects[c]})
	}
	for i := range b.Affected {
		av := &b.Affected[i]
		for _, l := range []*[]string{&av.Systems, &av.Flows, &av.Declared, &av.Discovered, &av.Observed, &av.Ledger} {
			slices.Sort(*l)
		}
		b.Estimated += av.EstimatedSubjects
	}
	// Vendors no flow or ledger row connects to us are not affected.
	b.Affected = slices.DeleteFunc(b.Affected, func(av AffectedVendor) bool { return len(av.Flows) == 0 && len(av.Ledger) == 0 })
	// Lists are [] rather than null in JSON: a stable shape.
	for _, l := range []*[]string{&b.Stated, &b.Ledger, &b.Inventory, &b.Exposed, &b.PossiblyExposed, &b.Unmentioned, &b.StatedNotSent, &b.Systems} {
		if *l == nil {
			*l = []string{}
		}
	}
	if b.Affected == nil {
		b.Affected = []AffectedVendor{}
	}
	if b.ByCategory == nil {
		b.ByCategory = []CategoryCount{}
	}
	return b, nil
}

// subjectAcc gathers one subject's ledger rows.
type subjectAcc struct {
	subject, externalID, jurisdiction string
	vendors, categories               []string
	first, last                       time.Time
}

// reset starts the accumulator on r's subject, keeping its buffers.
func (a *subjectAcc) reset(r LedgerRow) {
	*a = subjectAcc{subject: r.Subject, first: r.FirstSeen, last: r.LastSeen,
		vendors: a.vendors[:0], categories: a.categories[:0]}
}

// exposedMemo remembers the exposed categories of the last set of sent
// categories, and counts the people exposed with them (subjects) until
// the set changes; then it adds them to by, per category.
type exposedMemo struct {
	by        map[string]int64
	sent, out []string
	valid     bool
	subjects  int64
}

// exposed is exposedCategories(stated, sent); the result is valid until
// the next call.
func (m *exposedMemo) exposed(stated, sent []string) []string {
	if m.valid && slices.Equal(m.sent, sent) {
		return m.out
	}
	m.flush()
	m.sent = append(m.sent[:0], sent...)
	m.out = exposedCategories(stated, sent)
	m.valid = true
	return m.out
}

// flush adds the people counted so far to by.
func (m *exposedMemo) flush() {
	if m.subjects == 0 {
		return
	}
	for _, c := range m.out {
		m.by[c] += m.subjects
	}
	m.subjects = 0
}

func (a *subjectAcc) add(r LedgerRow) {
	a.vendors = appendNew(a.vendors, r.Vendor)
	a.categories = appendNew(a.categories, r.Category)
	if r.FirstSeen.Before(a.first) {
		a.first = r.FirstSeen
	}
	if r.LastSeen.After(a.last) {
		a.last = r.LastSeen
	}
	if a.jurisdiction == "" {
		a.jurisdiction = r.Jurisdiction
	}
	if a.externalID == "" {
		a.externalID = r.ExternalID
	}
}

// affectedVendors returns the breached vendor and every vendor that reaches
// it through subprocessors, each with its shortest chain, in id order.
func affectedVendors(breached string, vendors []inventory.Vendor) []AffectedVendor {
	names := map[string]string{}
	users := map[string][]string{} // subprocessor → vendors using it
	for _, v := range vendors {
		names[v.ID] = v.Name
		for _, sp := range v.Subprocessors {
			users[sp] = append(users[sp], v.ID)
		}
	}
	via := map[string][]string{breached: nil}
	queue := []string{breached}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		us := users[v]
		slices.Sort(us)
		for _, u := range us {
			if _, seen := via[u]; seen {
				continue
			}
			via[u] = append([]string{v}, via[v]...)
			queue = append(queue, u)
		}
	}
	var out []AffectedVendor
	for _, id := range keys(via) {
		name := names[id]
		if name == "" {
			name = id
		}
		out = append(out, AffectedVendor{Vendor: id, Name: name, Via: via[id]})
	}
	return out
}

// exposedCategories is stated within sent: for each overlapping pair the
// narrower key. Everything sent when nothing is stated.
func exposedCategories(stated, sent []string) []string {
	if len(stated) == 0 {
		return sortedSet(sent)
	}
	out := []string{}
	for _, s := range sent {
		for _, st := range stated {
			switch {
			case taxonomy.Covers(st, s):
				out = appendNew(out, s)
			case taxonomy.Covers(s, st):
				out = appendNew(out, st)
			}
		}
	}
	slices.Sort(out)
	return out
}

func coveredByAny(c string, by []string) bool {
	for _, b := range by {
		if taxonomy.Covers(b, c) {
			return true
		}
	}
	return false
}

func overlapsAny(c string, in []string) bool {
	for _, x := range in {
		if taxonomy.Overlaps(c, x) {
			return true
		}
	}
	return false
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// sortedSet is l sorted, without repeats, in a new slice.
func sortedSet(l []string) []string { return slices.Compact(slices.Sorted(slices.Values(l))) }

// keys is m's keys, sorted.
func keys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
