package inventory

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/taxonomy"
	"github.com/weaklink/weaklink/internal/textutil"
)

// Checker validates inventories against a taxonomy and a vendor catalog.
type Checker struct {
	Taxonomy *taxonomy.Tree
	Catalog  *catalog.Catalog
}

// DefaultChecker uses the embedded taxonomy and catalog.
func DefaultChecker() Checker {
	return Checker{Taxonomy: taxonomy.Default(), Catalog: catalog.Default()}
}

// Normalize fills defaults and catalog details into the document's objects
// and puts set-valued fields in canonical order. It reports unknown catalog
// ids. Normalize is idempotent.
func (c Checker) Normalize(doc *Document) Issues {
	var is Issues
	for i := range doc.Vendors {
		v := &doc.Vendors[i]
		if v.Catalog != "" && c.Catalog != nil {
			e, ok := c.Catalog.Get(v.Catalog)
			if !ok {
				is = append(is, Issue{Pos: doc.VendorSrc[i].Field("catalog"), Object: vendorLabel(v.ID), Field: "catalog",
					Message: fmt.Sprintf("unknown catalog vendor %q%s", v.Catalog, textutil.DidYouMean(v.Catalog, c.Catalog.IDs()))})
			} else {
				FillFromCatalog(v, e)
			}
		}
		if v.Status == "" {
			v.Status = DefaultStatus
		}
		for j, d := range v.Domains {
			v.Domains[j] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		}
		v.Canonicalize()
	}
	for i := range doc.Systems {
		s := &doc.Systems[i]
		if s.Environment == "" {
			s.Environment = DefaultEnvironment
		}
		s.Canonicalize()
	}
	for i := range doc.Flows {
		f := &doc.Flows[i]
		if f.ID == "" && f.System != "" && f.Vendor != "" {
			f.ID = DefaultFlowID(f.System, f.Vendor)
		}
		if f.Source == "" {
			f.Source = DefaultSource
		}
		f.Canonicalize()
	}
	return is
}

// FillFromCatalog copies catalog details into the vendor's empty fields.
func FillFromCatalog(v *Vendor, e catalog.Entry) {
	v.Catalog = e.ID
	if v.Name == "" {
		v.Name = e.Name
	}
	if v.LegalEntity == "" {
		v.LegalEntity = e.LegalEntity
	}
	if v.Website == "" {
		v.Website = e.Website
	}
	if v.Category == "" {
		v.Category = e.Category
	}
	if len(v.Domains) == 0 {
		v.Domains = slices.Clone(e.Domains)
	}
	if v.Description == "" {
		v.Description = e.Description
	}
}

func vendorLabel(id string) string { return fmt.Sprintf("vendor %q", id) }
func systemLabel(id string) string { return fmt.Sprintf("system %q", id) }
func flowLabel(id string) string   { return fmt.Sprintf("flow %q", id) }

type issueList struct {
	is Issues
}

// addElem reports a problem with one element of a list field, named and
// placed as the author wrote it.
func (l *issueList) addElem(src Source, object, field, value string, index int, format string, args ...any) {
	label, pos := src.Elem(field, value, index)
	l.is = append(l.is, Issue{Pos: pos, Object: object, Field: label, Message: fmt.Sprintf(format, args...)})
}

func (l *issueList) add(src Source, object, field, format string, args ...any) {
	l.is = append(l.is, Issue{Pos: src.Field(field), Object: object, Field: field, Message: fmt.Sprintf(format, args...)})
}

// CheckObjects validates each object of a normalized document on its own, and
// that no id is given twice.
func (c Checker) CheckObjects(doc *Document) Issues {
	var l issueList
	seen := map[string]Source{}
	dup := func(kind, id string, src Source, obj string) {
		key := kind + "\x00" + id
		if first, ok := seen[key]; ok {
			where := first.Pos.String()
			if where == "" {
				where = "earlier"
			}
			l.add(src, obj, "id", "duplicate %s id %q (first defined at %s)", kind, id, where)
			return
		}
		seen[key] = src
	}
	for i, v := range doc.Vendors {
		src, obj := doc.VendorSrc[i], vendorLabel(v.ID)
		if v.ID == "" {
			l.add(src, fmt.Sprintf("vendors[%d]", i), "id", "required")
			continue
		}
		dup("vendor", v.ID, src, obj)
		c.checkVendor(&l, v, src, obj)
	}
	for i, s := range doc.Systems {
		src, obj := doc.SystemSrc[i], systemLabel(s.ID)
		if s.ID == "" {
			l.add(src, fmt.Sprintf("systems[%d]", i), "id", "required")
			continue
		}
		dup("system", s.ID, src, obj)
		checkSlug(&l, src, obj, "id", s.ID)
		if strings.TrimSpace(s.Name) == "" {
			l.add(src, obj, "name", "required")
		}
		checkEnum(&l, src, obj, "environment", s.Environment, Environments)
		if s.Repository != "" {
			checkURL(&l, src, obj, "repository", s.Repository)
		}
		checkTags(&l, src, obj, s.Tags)
	}
	for i, f := range doc.Flows {
		src, obj := doc.FlowSrc[i], flowLabel(f.ID)
		if f.ID == "" {
			obj = fmt.Sprintf("flows[%d]", i)
			if f.System == "" {
				l.add(src, obj, "system", "required")
			}
			if f.Vendor == "" {
				l.add(src, obj, "vendor", "required")
			}
			continue
		}
		if prev, ok := seen["flow\x00"+f.ID]; ok && f.ID == DefaultFlowID(f.System, f.Vendor) {
			l.add(src, obj, "id", "a second flow from system %q to vendor %q (first at %s): give each flow an explicit, distinct id", f.System, f.Vendor, prev.Pos)
			continue
		}
		dup("flow", f.ID, src, obj)
		c.checkFlow(&l, f, src, obj)
	}
	return l.is
}

func (c Checker) checkVendor(l *issueList, v Vendor, src Source, obj string) {
	checkSlug(l, src, obj, "id", v.ID)
	// With a catalog id the fields come from the catalog; an unknown id is
	// reported once, by Normalize.
	if strings.TrimSpace(v.Name) == "" && v.Catalog == "" {
		l.add(src, obj, "name", "required (or give a catalog id to fill it)")
	}
	if v.Category == "" {
		if v.Catalog == "" {
			l.add(src, obj, "category", "required (or give a catalog id to fill it); one of %s", strings.Join(VendorCategories, ", "))
		}
	} else {
		checkEnum(l, src, obj, "category", v.Category, VendorCategories)
	}
	checkEnum(l, src, obj, "status", v.Status, VendorStatuses)
	if v.Criticality != "" {
		checkEnum(l, src, obj, "criticality", v.Criticality, Criticalities)
	}
	if v.Website != "" {
		checkURL(l, src, obj, "website", v.Website)
	}
	for j, d := range v.Domains {
		if !ValidHostname(d) {
			l.addElem(src, obj, "domains", d, j, "%q is not a hostname (write example.com, without scheme or path)", d)
		}
	}
	checkTags(l, src, obj, v.Tags)
	for j, s := range v.Subprocessors {
		if s == v.ID {
			l.addElem(src, obj, "subprocessors", s, j, "a vendor cannot be its own subprocessor")
		} else if !textutil.IsSlug(s) {
			l.addElem(src, obj, "subprocessors", s, j, "%q is not a valid vendor id", s)
		}
	}
}

func (c Checker) checkFlow(l *issueList, f Flow, src Source, obj string) {
	if !validFlowID(f.ID) {
		l.add(src, obj, "id", "%q is not a valid flow id (lowercase letters, digits, '-', '.', '_'; at most 129 characters)", f.ID)
	}
	if f.System == "" {
		l.add(src, obj, "system", "required")
	}
	if f.Vendor == "" {
		l.add(src, obj, "vendor", "required")
	}
	if len(f.Categories) == 0 {
		l.add(src, obj, "categories", "at least one data category is required")
	}
	for j, k := range f.Categories {
		if c.Taxonomy != nil {
			if err := c.Taxonomy.Check(k); err != nil {
				l.addElem(src, obj, "categories", k, j, "%v", err)
			}
		}
	}
	for j, s := range f.Subjects {
		if !slices.Contains(DataSubjects, s) {
			l.addElem(src, obj, "subjects", s, j, "%q is not one of %s%s", s, strings.Join(DataSubjects, ", "), textutil.DidYouMean(s, DataSubjects))
		}
	}
	if f.Purpose == "" {
		l.add(src, obj, "purpose", "required; one of %s", strings.Join(Purposes, ", "))
	} else {
		checkEnum(l, src, obj, "purpose", f.Purpose, Purposes)
	}
	if f.LegalBasis != "" {
		checkEnum(l, src, obj, "legal_basis", f.LegalBasis, LegalBases)
	}
	if f.EstimatedSubjects < 0 {
		l.add(src, obj, "estimated_subjects", "must not be negative")
	}
	checkEnum(l, src, obj, "source", f.Source, Sources)
	for j, e := range f.Evidence {
		if strings.TrimSpace(e.Ref) == "" {
			l.add(src, obj, fmt.Sprintf("evidence[%d]", j), "ref is required (file:line, URL or ticket)")
		}
	}
	if f.FirstSeen != nil && f.LastSeen != nil && f.LastSeen.Before(*f.FirstSeen) {
		l.add(src, obj, "last_seen", "is before first_seen")
	}
}

// CheckReferences validates the references of an inventory as a whole: flows
// name existing systems and vendors, subprocessors exist, and subprocessor
// links form no cycle. srcs gives positions for objects that came from files;
// objects it does not know are reported without a position.
func (c Checker) CheckReferences(inv Inventory, srcs *Document) Issues {
	var l issueList
	vendorSrc := map[string]Source{}
	systemSrc := map[string]Source{}
	flowSrc := map[string]Source{}
	if srcs != nil {
		for i, v := range srcs.Vendors {
			vendorSrc[v.ID] = srcs.VendorSrc[i]
		}
		for i, s := range srcs.Systems {
			systemSrc[s.ID] = srcs.SystemSrc[i]
		}
		for i, f := range srcs.Flows {
			flowSrc[f.ID] = srcs.FlowSrc[i]
		}
	}
	vendors := make(map[string]*Vendor, len(inv.Vendors))
	vendorIDs := make([]string, 0, len(inv.Vendors))
	for i := range inv.Vendors {
		vendors[inv.Vendors[i].ID] = &inv.Vendors[i]
		vendorIDs = append(vendorIDs, inv.Vendors[i].ID)
	}
	systems := make(map[string]bool, len(inv.Systems))
	systemIDs := make([]string, 0, len(inv.Systems))
	for _, s := range inv.Systems {
		systems[s.ID] = true
		systemIDs = append(systemIDs, s.ID)
	}
	for _, f := range inv.Flows {
		src := flowSrc[f.ID]
		if !systems[f.System] {
			l.add(src, flowLabel(f.ID), "system", "unknown system %q%s", f.System, textutil.DidYouMean(f.System, systemIDs))
		}
		if vendors[f.Vendor] == nil {
			l.add(src, flowLabel(f.ID), "vendor", "unknown vendor %q%s", f.Vendor, textutil.DidYouMean(f.Vendor, vendorIDs))
		}
	}
	for _, v := range inv.Vendors {
		for j, s := range v.Subprocessors {
			if vendors[s] == nil && s != v.ID {
				l.addElem(vendorSrc[v.ID], vendorLabel(v.ID), "subprocessors", s, j,
					"unknown vendor %q%s (a subprocessor must be in the inventory too)", s, textutil.DidYouMean(s, vendorIDs))
			}
		}
	}
	for _, cyc := range subprocessorCycles(inv.Vendors, vendors) {
		from, to := cyc[len(cyc)-2], cyc[len(cyc)-1]
		j := slices.Index(vendors[from].Subprocessors, to)
		l.addElem(vendorSrc[from], vendorLabel(from), "subprocessors", to, j, "subprocessor cycle: %s", strings.Join(cyc, " → "))
	}
	return l.is
}

// subprocessorCycles finds the cycles in subprocessor links, each reported
// once as a closed path [a b c a], by a depth-first search in id order.
func subprocessorCycles(list []Vendor, vendors map[string]*Vendor) [][]string {
	const (
		unvisited = iota
		onStack
		done
	)
	state := make(map[string]int, len(list))
	var stack []string
	var cycles [][]string
	var visit func(id string)
	visit = func(id string) {
		state[id] = onStack
		stack = append(stack, id)
		for _, s := range vendors[id].Subprocessors {
			if vendors[s] == nil || s == id {
				continue
			}
			switch state[s] {
			case unvisited:
				visit(s)
			case onStack:
				i := slices.Index(stack, s)
				cycles = append(cycles, append(slices.Clone(stack[i:]), s))
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = done
	}
	ids := make([]string, 0, len(list))
	for _, v := range list {
		ids = append(ids, v.ID)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if state[id] == unvisited {
			visit(id)
		}
	}
	return cycles
}

func checkSlug(l *issueList, src Source, obj, field, v string) {
	if !textutil.IsSlug(v) {
		l.add(src, obj, field, "%q is not a valid id: use 1–64 lowercase letters, digits and inner hyphens", v)
	}
}

func checkEnum(l *issueList, src Source, obj, field, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		l.add(src, obj, field, "%q is not one of %s%s", v, strings.Join(allowed, ", "), textutil.DidYouMean(v, allowed))
	}
}

func checkURL(l *issueList, src Source, obj, field, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		l.add(src, obj, field, "%q is not an http(s) URL", v)
	}
}

func checkTags(l *issueList, src Source, obj string, tags []string) {
	for j, t := range tags {
		if strings.TrimSpace(t) == "" || len(t) > 64 || strings.ContainsAny(t, "\n\r\t") {
			l.addElem(src, obj, "tags", t, j, "tags are non-empty, single-line and at most 64 characters")
		}
	}
}

// ValidHostname reports whether h is a lowercase DNS name with at least two
// labels (api.example.com), or an IP address.
func ValidHostname(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) == 0 || len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func validFlowID(id string) bool {
	if len(id) == 0 || len(id) > 129 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return id[0] != '.' && id[len(id)-1] != '.'
}
