package discover

import (
	"cmp"
	"slices"
	"time"
)

// Report is the result of one discovery run: the findings, a summary per
// vendor and, when compared with the inventory, the drift.
type Report struct {
	Roots    []string        `json:"roots"`
	Stats    Stats           `json:"stats"`
	Vendors  []VendorSummary `json:"vendors"`
	Findings []Finding       `json:"findings"`
	// Problems are files that could not be parsed (a broken manifest); the
	// scan goes on without them.
	Problems []string `json:"problems,omitempty"`
	// Drift is nil unless the run was compared with the inventory.
	Drift *Drift `json:"drift,omitempty"`
}

// Stats counts what a run looked at.
type Stats struct {
	Files    int           `json:"files"`    // files read and scanned
	Skipped  int           `json:"skipped"`  // files left out: vendored, generated, ignored, binary, too large
	Bytes    int64         `json:"bytes"`    // bytes scanned
	Captures int           `json:"captures"` // HAR files read
	Duration time.Duration `json:"duration_ns"`
}

// VendorSummary is everything found about one vendor.
type VendorSummary struct {
	Vendor     string     `json:"vendor"`
	Name       string     `json:"name,omitempty"`
	Known      bool       `json:"known"` // in the catalog
	Kinds      []Kind     `json:"kinds"`
	Systems    []string   `json:"systems,omitempty"`
	Categories []Category `json:"categories,omitempty"`
	Findings   int        `json:"findings"`
	// Evidence is the first finding's evidence, for a one-line report.
	Evidence Evidence `json:"evidence"`
}

// Drift is the difference between what discovery found and what the
// inventory declares.
type Drift struct {
	Items []DriftItem `json:"items"`
}

// Drift kinds.
const (
	DriftNewVendor   = "new-vendor"        // found, not in the inventory
	DriftUnapproved  = "unapproved-vendor" // in the inventory, not approved or active
	DriftNewCategory = "new-category"      // a category no flow to that vendor (from that system) declares
	DriftNoEvidence  = "no-evidence"       // a declared flow that nothing found backs
)

// DriftItem is one difference.
type DriftItem struct {
	Kind     string `json:"kind"`
	Vendor   string `json:"vendor"`
	System   string `json:"system,omitempty"`
	Category string `json:"category,omitempty"`
	Flow     string `json:"flow,omitempty"`
	// Message is one actionable line ("new vendor posthog (PostHog): add it
	// to the inventory or to the baseline").
	Message  string     `json:"message"`
	Evidence []Evidence `json:"evidence,omitempty"`
	// Baselined is true when a baseline file accepts the item; the CI gate
	// ignores it.
	Baselined bool `json:"baselined,omitempty"`
}

// Key identifies a drift item for baselines.
func (d DriftItem) Key() string {
	return d.Kind + "|" + d.Vendor + "|" + d.System + "|" + d.Category + "|" + d.Flow
}

// Blocking reports whether the item fails the CI gate: new vendors,
// unapproved vendors and new categories, unless baselined. Missing evidence
// is reported but does not fail a build.
func (d DriftItem) Blocking() bool {
	return !d.Baselined && d.Kind != DriftNoEvidence
}

// Failing returns the items that fail the CI gate.
func (d *Drift) Failing() []DriftItem {
	if d == nil {
		return nil
	}
	var out []DriftItem
	for _, it := range d.Items {
		if it.Blocking() {
			out = append(out, it)
		}
	}
	return out
}

// Summarize builds the per-vendor summary of findings, sorted by vendor.
func Summarize(fs []Finding) []VendorSummary {
	idx := map[string]int{}
	var out []VendorSummary
	for _, f := range fs {
		i, ok := idx[f.Vendor]
		if !ok {
			i = len(out)
			idx[f.Vendor] = i
			out = append(out, VendorSummary{Vendor: f.Vendor, Name: f.VendorName, Known: f.Known(), Evidence: f.Evidence})
		}
		s := &out[i]
		s.Findings++
		if !slices.Contains(s.Kinds, f.Kind) {
			s.Kinds = append(s.Kinds, f.Kind)
		}
		if f.System != "" && !slices.Contains(s.Systems, f.System) {
			s.Systems = append(s.Systems, f.System)
		}
		for _, c := range f.Categories {
			s.Categories = addCategory(s.Categories, c)
		}
	}
	for i := range out {
		s := &out[i]
		slices.SortFunc(s.Kinds, func(a, b Kind) int { return slices.Index(Kinds, a) - slices.Index(Kinds, b) })
		slices.Sort(s.Systems)
		sortCategories(s.Categories)
	}
	slices.SortFunc(out, func(a, b VendorSummary) int { return cmp.Compare(a.Vendor, b.Vendor) })
	return out
}
