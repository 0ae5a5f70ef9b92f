// Package inventory is weaklink's domain model: vendors, the internal systems
// that send them data, and the data flows between the two. It validates an
// inventory, computes the plan that turns one inventory into another, and
// reads and writes inventory-as-code (YAML), JSON, CSV and CycloneDX.
//
// The package knows nothing about databases or HTTP; the store and the front
// doors (CLI, API) depend on it.
package inventory

import (
	"slices"
	"time"
)

// Vendor categories.
var VendorCategories = []string{
	"analytics", "session-replay", "error-tracking", "observability", "payments",
	"crm-marketing", "email-sms", "support", "identity", "cloud-infrastructure",
	"storage-cdn", "data-warehouse", "ai", "collaboration", "other",
}

// Vendor lifecycle statuses, in lifecycle order.
var VendorStatuses = []string{"proposed", "approved", "active", "offboarding", "offboarded"}

// Criticality levels, for risk scoring. Empty means not assessed.
var Criticalities = []string{"low", "medium", "high", "critical"}

// System environments.
var Environments = []string{"production", "staging", "development", "test"}

// Data subjects (fideslang data subjects).
var DataSubjects = []string{"customer", "end_user", "employee", "prospect", "job_applicant", "visitor"}

// Purposes of processing (simplified fideslang data uses).
var Purposes = []string{
	"analytics", "essential.service", "support", "billing", "marketing", "advertising",
	"security", "operations", "ai_processing", "legal",
}

// Legal bases (GDPR Art. 6(1)).
var LegalBases = []string{
	"consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests",
}

// Flow sources: how weaklink knows about a flow.
const (
	SourceDeclared   = "declared"   // written by a person in inventory-as-code or the CLI
	SourceDiscovered = "discovered" // found in code, manifests or captures
	SourceObserved   = "observed"   // seen in live traffic by the gateway
)

// Sources lists the flow sources.
var Sources = []string{SourceDeclared, SourceDiscovered, SourceObserved}

// Defaults applied to omitted fields.
const (
	DefaultStatus      = "proposed"
	DefaultEnvironment = "production"
	DefaultSource      = SourceDeclared
)

// Meta is what the store keeps about every object and inventory-as-code does
// not: a revision for optimistic concurrency and timestamps.
type Meta struct {
	Revision  int64     `json:"revision" yaml:"-"`
	CreatedAt time.Time `json:"created_at" yaml:"-"`
	UpdatedAt time.Time `json:"updated_at" yaml:"-"`
}

// Vendor is a third party that receives data.
type Vendor struct {
	ID            string   `json:"id" yaml:"id"`
	Name          string   `json:"name" yaml:"name"`
	LegalEntity   string   `json:"legal_entity,omitempty" yaml:"legal_entity,omitempty"`
	Website       string   `json:"website,omitempty" yaml:"website,omitempty"`
	Domains       []string `json:"domains,omitempty" yaml:"domains,omitempty"`
	Category      string   `json:"category" yaml:"category"`
	Owner         string   `json:"owner,omitempty" yaml:"owner,omitempty"`
	Status        string   `json:"status" yaml:"status"`
	Criticality   string   `json:"criticality,omitempty" yaml:"criticality,omitempty"`
	Description   string   `json:"description,omitempty" yaml:"description,omitempty"`
	Tags          []string `json:"tags,omitempty" yaml:"tags,omitempty"`
	Subprocessors []string `json:"subprocessors,omitempty" yaml:"subprocessors,omitempty"`
	// Catalog is the id of the catalog entry this vendor is, if any. Fields left
	// empty in inventory-as-code are filled from it.
	Catalog string `json:"catalog,omitempty" yaml:"catalog,omitempty"`
	Meta    `yaml:"-"`
}

// System is an internal application or component that sends data to vendors.
type System struct {
	ID          string   `json:"id" yaml:"id"`
	Name        string   `json:"name" yaml:"name"`
	Description string   `json:"description,omitempty" yaml:"description,omitempty"`
	Owner       string   `json:"owner,omitempty" yaml:"owner,omitempty"`
	Environment string   `json:"environment" yaml:"environment"`
	Repository  string   `json:"repository,omitempty" yaml:"repository,omitempty"`
	Tags        []string `json:"tags,omitempty" yaml:"tags,omitempty"`
	Meta        `yaml:"-"`
}

// Evidence backs a flow: where it was declared, found or seen.
type Evidence struct {
	Kind   string `json:"kind" yaml:"kind"`                         // e.g. document, dependency, data-send, endpoint, traffic
	Ref    string `json:"ref" yaml:"ref"`                           // file:line, URL or ticket
	Detail string `json:"detail,omitempty" yaml:"detail,omitempty"` // short snippet or note
}

// Flow is data going from a system to a vendor.
type Flow struct {
	ID                string     `json:"id" yaml:"id"`
	System            string     `json:"system" yaml:"system"`
	Vendor            string     `json:"vendor" yaml:"vendor"`
	Categories        []string   `json:"categories" yaml:"categories"`
	Subjects          []string   `json:"subjects,omitempty" yaml:"subjects,omitempty"`
	Purpose           string     `json:"purpose" yaml:"purpose"`
	LegalBasis        string     `json:"legal_basis,omitempty" yaml:"legal_basis,omitempty"`
	EstimatedSubjects int64      `json:"estimated_subjects,omitempty" yaml:"estimated_subjects,omitempty"`
	Source            string     `json:"source" yaml:"source"`
	Evidence          []Evidence `json:"evidence,omitempty" yaml:"evidence,omitempty"`
	FirstSeen         *time.Time `json:"first_seen,omitempty" yaml:"first_seen,omitempty"`
	LastSeen          *time.Time `json:"last_seen,omitempty" yaml:"last_seen,omitempty"`
	Description       string     `json:"description,omitempty" yaml:"description,omitempty"`
	Meta              `yaml:"-"`
}

// DefaultFlowID is the id a flow gets when inventory-as-code does not name one.
func DefaultFlowID(system, vendor string) string { return system + "." + vendor }

// Inventory is a whole set of vendors, systems and flows, in id order.
type Inventory struct {
	Vendors []Vendor `json:"vendors" yaml:"vendors"`
	Systems []System `json:"systems" yaml:"systems"`
	Flows   []Flow   `json:"flows" yaml:"flows"`
}

// Sort puts every list in id order, and every set-valued field in sorted,
// de-duplicated order, so two equal inventories compare equal.
func (inv *Inventory) Sort() {
	slices.SortFunc(inv.Vendors, func(a, b Vendor) int { return cmpString(a.ID, b.ID) })
	slices.SortFunc(inv.Systems, func(a, b System) int { return cmpString(a.ID, b.ID) })
	slices.SortFunc(inv.Flows, func(a, b Flow) int { return cmpString(a.ID, b.ID) })
	for i := range inv.Vendors {
		inv.Vendors[i].Canonicalize()
	}
	for i := range inv.Systems {
		inv.Systems[i].Canonicalize()
	}
	for i := range inv.Flows {
		inv.Flows[i].Canonicalize()
	}
}

// Canonicalize sorts and de-duplicates the vendor's set-valued fields.
func (v *Vendor) Canonicalize() {
	v.Domains = sortedSet(v.Domains)
	v.Tags = sortedSet(v.Tags)
	v.Subprocessors = sortedSet(v.Subprocessors)
}

// Canonicalize sorts and de-duplicates the system's set-valued fields.
func (s *System) Canonicalize() { s.Tags = sortedSet(s.Tags) }

// Canonicalize sorts and de-duplicates the flow's set-valued fields and
// normalizes its times to UTC.
func (f *Flow) Canonicalize() {
	f.Categories = sortedSet(f.Categories)
	f.Subjects = sortedSet(f.Subjects)
	if f.FirstSeen != nil {
		t := f.FirstSeen.UTC().Truncate(time.Second)
		f.FirstSeen = &t
	}
	if f.LastSeen != nil {
		t := f.LastSeen.UTC().Truncate(time.Second)
		f.LastSeen = &t
	}
}

func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
