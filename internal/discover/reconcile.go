package discover

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// maxEvidence bounds the evidence listed per drift item or recorded flow.
const maxEvidence = 5

// approved are the vendor statuses that let data flow.
var approved = map[string]bool{"approved": true, "active": true}

// inventoryVendor finds the inventory vendor a discovered vendor id names:
// the same id, a vendor whose catalog reference is the id, or (for a vendor
// not in the catalog) one that lists the domain.
func inventoryVendor(inv *inventory.Inventory, id string) (*inventory.Vendor, bool) {
	domain, unknown := strings.CutPrefix(id, UnknownPrefix)
	for i := range inv.Vendors {
		v := &inv.Vendors[i]
		if v.ID == id || (v.Catalog != "" && v.Catalog == id) {
			return v, true
		}
		if unknown && (slices.Contains(v.Domains, domain) || hostOf(v.Website) == domain || strings.HasSuffix(hostOf(v.Website), "."+domain)) {
			return v, true
		}
	}
	return nil, false
}

// Reconcile compares a report with the inventory. scanned lists the systems
// the scan covered: a declared flow from one of them that nothing backs is
// reported as no-evidence.
func Reconcile(inv *inventory.Inventory, r *Report, scanned []string) *Drift {
	d := &Drift{}
	type catKey struct{ vendor, system, category string }
	newCats := map[catKey][]Evidence{}
	var catOrder []catKey
	for _, vs := range r.Vendors {
		v, ok := inventoryVendor(inv, vs.Vendor)
		if !ok {
			d.Items = append(d.Items, DriftItem{Kind: DriftNewVendor, Vendor: vs.Vendor,
				Message:  fmt.Sprintf("new vendor %s%s%s: add it to the inventory (or the baseline) before it ships", vs.Vendor, nameSuffix(vs), catSuffix(vs.Categories)),
				Evidence: evidenceOf(r.Findings, vs.Vendor, "")})
			continue
		}
		if !approved[v.Status] {
			d.Items = append(d.Items, DriftItem{Kind: DriftUnapproved, Vendor: v.ID,
				Message:  fmt.Sprintf("vendor %s is %s, not approved: approve it in the inventory or remove the integration", v.ID, v.Status),
				Evidence: evidenceOf(r.Findings, vs.Vendor, "")})
		}
	}
	for _, f := range r.Findings {
		v, ok := inventoryVendor(inv, f.Vendor)
		if !ok {
			continue
		}
		for _, c := range f.Categories {
			if c.Confidence < MinConfidence || declared(inv, v.ID, f.System, c.Key) {
				continue
			}
			k := catKey{v.ID, f.System, c.Key}
			if _, seen := newCats[k]; !seen {
				catOrder = append(catOrder, k)
			}
			if len(newCats[k]) < maxEvidence {
				newCats[k] = append(newCats[k], f.Evidence)
			}
		}
	}
	for _, k := range catOrder {
		from := ""
		if k.system != "" {
			from = " from " + k.system
		}
		d.Items = append(d.Items, DriftItem{Kind: DriftNewCategory, Vendor: k.vendor, System: k.system, Category: k.category,
			Message:  fmt.Sprintf("%s is sent to %s%s but no flow declares it: add it to a flow or stop sending it", k.category, k.vendor, from),
			Evidence: newCats[k]})
	}
	for _, fl := range inv.Flows {
		if fl.Source != inventory.SourceDeclared || !slices.Contains(scanned, fl.System) {
			continue
		}
		if hasEvidence(inv, r.Findings, fl) {
			continue
		}
		d.Items = append(d.Items, DriftItem{Kind: DriftNoEvidence, Vendor: fl.Vendor, System: fl.System, Flow: fl.ID,
			Message: fmt.Sprintf("declared flow %s (%s → %s) has no evidence in the scanned code: remove it if the integration is gone", fl.ID, fl.System, fl.Vendor)})
	}
	slices.SortStableFunc(d.Items, func(a, b DriftItem) int { return strings.Compare(a.Key(), b.Key()) })
	return d
}

// declared reports whether a flow from system (any system when "") to
// vendor covers category.
func declared(inv *inventory.Inventory, vendor, system, category string) bool {
	for _, fl := range inv.Flows {
		if fl.Vendor != vendor || (system != "" && fl.System != system) {
			continue
		}
		for _, c := range fl.Categories {
			if taxonomy.Covers(c, category) {
				return true
			}
		}
	}
	return false
}

func hasEvidence(inv *inventory.Inventory, fs []Finding, fl inventory.Flow) bool {
	for _, f := range fs {
		if f.System != fl.System {
			continue
		}
		if v, ok := inventoryVendor(inv, f.Vendor); ok && v.ID == fl.Vendor {
			return true
		}
	}
	return false
}

func evidenceOf(fs []Finding, vendor, system string) []Evidence {
	var out []Evidence
	for _, f := range fs {
		if f.Vendor == vendor && (system == "" || f.System == system) && len(out) < maxEvidence {
			out = append(out, f.Evidence)
		}
	}
	return out
}

func nameSuffix(vs VendorSummary) string {
	if vs.Name != "" && vs.Name != strings.TrimPrefix(vs.Vendor, UnknownPrefix) {
		return " (" + vs.Name + ")"
	}
	return ""
}

func catSuffix(cs []Category) string {
	if len(cs) == 0 {
		return ""
	}
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Key
	}
	return " receiving " + strings.Join(keys, ", ")
}

// purposeOf guesses a flow's purpose from the vendor's category.
func purposeOf(category string) string {
	switch category {
	case "analytics", "session-replay":
		return "analytics"
	case "payments":
		return "billing"
	case "crm-marketing", "email-sms":
		return "marketing"
	case "support":
		return "support"
	case "identity":
		return "security"
	case "ai":
		return "ai_processing"
	}
	return "operations"
}

// RecordResult says what Record changed.
type RecordResult struct {
	Vendors   []string `json:"vendors_added"`
	Flows     []string `json:"flows_written"`
	NoSystem  int      `json:"findings_without_system"`
	Unchanged bool     `json:"unchanged"`
}

// Record writes the report into inv: one discovered flow per (system,
// vendor) with the categories found and their evidence (id
// SYSTEM.VENDOR.discovered, source discovered), and a proposed vendor for
// each vendor the inventory lacks. Findings without a system cannot become
// flows and are counted.
func Record(inv *inventory.Inventory, r *Report, cat *catalog.Catalog, now time.Time) RecordResult {
	var res RecordResult
	type key struct{ system, vendor string }
	flows := map[key]*inventory.Flow{}
	var order []key
	for _, f := range r.Findings {
		if f.System == "" {
			res.NoSystem++
			continue
		}
		if !slices.ContainsFunc(inv.Systems, func(s inventory.System) bool { return s.ID == f.System }) {
			res.NoSystem++
			continue
		}
		v, ok := inventoryVendor(inv, f.Vendor)
		if !ok {
			nv := newVendor(inv, f, cat)
			inv.Vendors = append(inv.Vendors, nv)
			res.Vendors = append(res.Vendors, nv.ID)
			v = &inv.Vendors[len(inv.Vendors)-1]
		}
		k := key{f.System, v.ID}
		fl, ok := flows[k]
		if !ok {
			fl = &inventory.Flow{ID: f.System + "." + v.ID + ".discovered", System: f.System, Vendor: v.ID,
				Purpose: purposeOf(v.Category), Source: inventory.SourceDiscovered}
			flows[k] = fl
			order = append(order, k)
		}
		for _, c := range f.Categories {
			if c.Confidence >= MinConfidence && !slices.Contains(fl.Categories, c.Key) {
				fl.Categories = append(fl.Categories, c.Key)
			}
		}
		if len(fl.Evidence) < 2*maxEvidence {
			fl.Evidence = append(fl.Evidence, inventory.Evidence{Kind: string(f.Kind), Ref: f.Evidence.Ref(), Detail: f.Evidence.Snippet})
		}
	}
	t := now.UTC().Truncate(time.Second)
	for _, k := range order {
		fl := flows[k]
		if len(fl.Categories) == 0 {
			// A flow needs at least one category; the vendor's SDK
			// defaults stand in when the code shows none.
			if e, ok := cat.Get(k.vendor); ok && len(e.Collects) > 0 {
				fl.Categories = slices.Clone(e.Collects)
			} else {
				fl.Categories = []string{"system.operations"}
			}
		}
		slices.Sort(fl.Categories)
		i := slices.IndexFunc(inv.Flows, func(x inventory.Flow) bool { return x.ID == fl.ID })
		if i < 0 {
			first := t
			fl.FirstSeen, fl.LastSeen = &first, &first
			inv.Flows = append(inv.Flows, *fl)
		} else {
			cur := &inv.Flows[i]
			if slices.Equal(cur.Categories, fl.Categories) && evidenceEqual(cur.Evidence, fl.Evidence) {
				continue
			}
			cur.Categories, cur.Evidence = fl.Categories, fl.Evidence
			last := t
			cur.LastSeen = &last
		}
		res.Flows = append(res.Flows, fl.ID)
	}
	res.Unchanged = len(res.Flows) == 0 && len(res.Vendors) == 0
	return res
}

func evidenceEqual(a, b []inventory.Evidence) bool {
	return slices.EqualFunc(a, b, func(x, y inventory.Evidence) bool { return x == y })
}

// newVendor makes a proposed inventory vendor for a discovered one: from
// the catalog when it knows the vendor, from the domain otherwise.
func newVendor(inv *inventory.Inventory, f Finding, cat *catalog.Catalog) inventory.Vendor {
	if e, ok := cat.Get(f.Vendor); ok {
		return inventory.Vendor{ID: e.ID, Name: e.Name, LegalEntity: e.LegalEntity, Website: e.Website,
			Domains: e.Domains, Category: e.Category, Status: "proposed", Catalog: e.ID,
			Tags: []string{"discovered"}}
	}
	domain := strings.TrimPrefix(f.Vendor, UnknownPrefix)
	id := strings.Map(func(r rune) rune {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			return r
		}
		return '-'
	}, strings.ToLower(domain))
	for n := 2; slices.ContainsFunc(inv.Vendors, func(v inventory.Vendor) bool { return v.ID == id }); n++ {
		id = fmt.Sprintf("%s-%d", strings.TrimSuffix(id, fmt.Sprintf("-%d", n-1)), n)
	}
	return inventory.Vendor{ID: id, Name: domain, Website: "https://" + domain, Domains: []string{domain},
		Category: "other", Status: "proposed", Tags: []string{"discovered"}}
}
