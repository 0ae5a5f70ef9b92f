// Package discover finds vendors, and the personal data sent to them, where
// they really are: in dependency manifests, in source code and config, and in
// browser captures (HAR). Its findings are evidence for the inventory:
// reconcile compares them with what is declared, and the CI gate fails when a
// vendor or a data category appears that nobody approved.
package discover

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Kind says what a finding is.
type Kind string

// The kinds of finding.
const (
	KindDependency Kind = "dependency" // a manifest or lock file names the vendor's SDK
	KindSDKInit    Kind = "sdk-init"   // code imports or initialises the SDK
	KindDataSend   Kind = "data-send"  // code calls the SDK with data (track, identify…)
	KindEndpoint   Kind = "endpoint"   // a vendor hostname or API URL in code or config
	KindSnippet    Kind = "snippet"    // an HTML script tag, snippet loader or CSP entry
	KindConfigKey  Kind = "config-key" // a config or env key naming the vendor (SENTRY_DSN…)
	KindTraffic    Kind = "traffic"    // a request in a browser capture (HAR)
)

// Kinds lists every kind, in report order.
var Kinds = []Kind{KindDependency, KindSDKInit, KindDataSend, KindEndpoint, KindSnippet, KindConfigKey, KindTraffic}

// UnknownPrefix marks a vendor that is not in the catalog: the rest of the id
// is its registrable domain ("domain:example-analytics.io").
const UnknownPrefix = "domain:"

// Category is one data category a finding carries, with how sure we are.
type Category struct {
	Key        string  `json:"key"`
	Confidence float64 `json:"confidence"`
	// Element is the data element that gave it away: a field name, a
	// variable, a query parameter ("email", "user.email", "traits.phone").
	Element string `json:"element,omitempty"`
}

// Evidence is where a finding was seen.
type Evidence struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Snippet string `json:"snippet,omitempty"`
}

// Ref is file:line.
func (e Evidence) Ref() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line)
	}
	return e.File
}

// Finding is one piece of evidence that a vendor is used, and with what data.
type Finding struct {
	// Vendor is a catalog id, or UnknownPrefix + registrable domain.
	Vendor     string     `json:"vendor"`
	VendorName string     `json:"vendor_name,omitempty"`
	Kind       Kind       `json:"kind"`
	Evidence   Evidence   `json:"evidence"`
	Categories []Category `json:"categories,omitempty"`
	// System is the inventory system the file belongs to ("" when no
	// mapping covers it).
	System string `json:"system,omitempty"`
	// Detail names what matched: the package, host, call or key.
	Detail string `json:"detail,omitempty"`
}

// Known reports whether the vendor is in the catalog.
func (f Finding) Known() bool { return !strings.HasPrefix(f.Vendor, UnknownPrefix) }

// Fingerprint identifies a finding across runs for baselines: it leaves out
// the line number, which moves with unrelated edits.
func (f Finding) Fingerprint() string {
	keys := make([]string, len(f.Categories))
	for i, c := range f.Categories {
		keys[i] = c.Key
	}
	slices.Sort(keys)
	return strings.Join([]string{f.Vendor, string(f.Kind), f.Evidence.File, f.Detail, strings.Join(keys, ",")}, "|")
}

// SortFindings orders findings by vendor, file, line, kind and detail.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Vendor, b.Vendor),
			cmp.Compare(a.Evidence.File, b.Evidence.File),
			cmp.Compare(a.Evidence.Line, b.Evidence.Line),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Detail, b.Detail),
		)
	})
}

// addCategory adds c to cs, keeping the highest confidence per key.
func addCategory(cs []Category, c Category) []Category {
	for i := range cs {
		if cs[i].Key == c.Key {
			if c.Confidence > cs[i].Confidence {
				cs[i] = c
			}
			return cs
		}
	}
	return append(cs, c)
}

// sortCategories orders categories by key.
func sortCategories(cs []Category) {
	slices.SortFunc(cs, func(a, b Category) int { return cmp.Compare(a.Key, b.Key) })
}
