// Package incident is weaklink's response to a vendor breach: the incident
// and its append-only timeline, the blast radius computed from what weaklink
// knows was sent to the vendor, the legal clocks that start running, and the
// notification pack for regulators, affected people and peers.
//
// The package is independent of databases and HTTP: the store keeps
// incidents and events, the CLI and API call the functions here.
package incident

import (
	"time"
)

// Status is where an incident is in its lifecycle.
type Status string

// Incident statuses, in lifecycle order.
const (
	StatusTriage        Status = "triage"
	StatusInvestigating Status = "investigating"
	StatusContained     Status = "contained"
	StatusNotifying     Status = "notifying"
	StatusClosed        Status = "closed"
)

// Statuses lists the statuses in lifecycle order.
var Statuses = []Status{StatusTriage, StatusInvestigating, StatusContained, StatusNotifying, StatusClosed}

// Severities of an incident.
var Severities = []string{"low", "medium", "high", "critical"}

// Anchor names an instant that a clock runs from. Laws anchor their
// deadlines at different moments; an incident keeps each one separately.
type Anchor string

// Anchors.
const (
	// AnchorStart is when the breach began (the attacker's first access).
	AnchorStart Anchor = "incident_start"
	// AnchorVendorDiscovered is when the vendor discovered the breach: a
	// processor's contractual and statutory clocks towards us run from it.
	AnchorVendorDiscovered Anchor = "vendor_discovered"
	// AnchorVendorNotified is when the vendor told us.
	AnchorVendorNotified Anchor = "vendor_notified"
	// AnchorDatasetReceived is when the vendor delivered the affected
	// dataset (often later than its notice).
	AnchorDatasetReceived Anchor = "dataset_received"
	// AnchorAware is when we (the controller) became aware of a
	// personal-data breach: GDPR's clock.
	AnchorAware Anchor = "aware"
	// AnchorDiscovered is when we discovered the breach, where a law says
	// "discovery" (HIPAA, California, New York, Washington). Defaults to
	// AnchorAware when not set.
	AnchorDiscovered Anchor = "discovered"
	// AnchorDetermined is when we determined that a breach occurred
	// (Texas, Florida, Colorado, NYDFS). Defaults to AnchorAware.
	AnchorDetermined Anchor = "determined"
	// AnchorMaterial is when we determined the incident is material (SEC
	// Form 8-K Item 1.05).
	AnchorMaterial Anchor = "materiality_determined"
	// AnchorContained and AnchorClosed are set by contain and close.
	AnchorContained Anchor = "contained"
	AnchorClosed    Anchor = "closed"
)

// Anchors lists every anchor in the order they usually happen.
var Anchors = []Anchor{AnchorStart, AnchorVendorDiscovered, AnchorVendorNotified, AnchorDatasetReceived,
	AnchorAware, AnchorDiscovered, AnchorDetermined, AnchorMaterial, AnchorContained, AnchorClosed}

// Incident is a breach at a vendor (or at one of its subprocessors) that
// may have exposed data we sent it.
type Incident struct {
	ID string `json:"id"` // UUIDv7
	// Vendor is the breached party: a vendor of ours or a subprocessor of
	// one. The blast radius covers every vendor that uses it, directly or
	// through other subprocessors.
	Vendor   string `json:"vendor"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Owner    string `json:"owner,omitempty"`
	Status   Status `json:"status"`
	// Times holds the anchors known so far.
	Times map[Anchor]time.Time `json:"times"`
	// Categories are the data categories the vendor says were exposed
	// (taxonomy keys; a parent stands for its children).
	Categories []string `json:"categories"`
	// WindowFrom and WindowTo bound the data affected: what we sent the
	// vendor in between. Zero means open.
	WindowFrom time.Time `json:"window_from,omitzero"`
	WindowTo   time.Time `json:"window_to,omitzero"`
	// Systems limits the incident to data from these systems; empty means
	// all.
	Systems []string `json:"systems,omitempty"`
	// ContractNoticeHours is how soon the vendor promised to tell us of a
	// breach, counted from its discovery (0: no contractual clock).
	ContractNoticeHours int `json:"contract_notice_hours,omitempty"`
	// HighRisk is the assessment that the breach is likely to result in a
	// high risk to people (GDPR Art. 34); nil until someone decides.
	HighRisk *bool `json:"high_risk,omitempty"`
	// Material is the determination that the incident is material to
	// investors (SEC); nil until someone decides.
	Material *bool  `json:"material,omitempty"`
	Notes    string `json:"notes,omitempty"`
	// Revision counts changes, for optimistic concurrency.
	Revision  int64     `json:"revision"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Time returns the instant of an anchor, following the documented
// defaults (discovery and determination default to awareness).
func (in *Incident) Time(a Anchor) (time.Time, bool) {
	if t, ok := in.Times[a]; ok && !t.IsZero() {
		return t, true
	}
	switch a {
	case AnchorDiscovered, AnchorDetermined:
		return in.Time(AnchorAware)
	}
	return time.Time{}, false
}

// Event is one entry of an incident's timeline: a change or an action, by
// whom and when. The timeline is append-only.
type Event struct {
	ID       string    `json:"id"` // UUIDv7, so ids sort in time order
	Incident string    `json:"incident"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	// Kind is opened, updated, status, contained, blast-radius, clocks,
	// notified, note or closed.
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Changes are the fields an update changed: field → [before, after].
	Changes map[string][2]string `json:"changes,omitempty"`
}

// Profile is what the clocks need to know about our own organisation.
type Profile struct {
	Name string `json:"name" yaml:"name"`
	// Contact is where affected people and regulators reach us: a postal
	// address, phone number or mailbox, shown without links in letters.
	Contact string `json:"contact" yaml:"contact"`
	// DPO is the data protection officer's contact (GDPR Art. 33(3)(b)).
	DPO string `json:"dpo,omitempty" yaml:"dpo,omitempty"`
	// Website is shown as text for people to type, never as a link.
	Website string `json:"website,omitempty" yaml:"website,omitempty"`
	// PublicCompany files with the SEC (Form 8-K Item 1.05).
	PublicCompany bool `json:"public_company,omitempty" yaml:"public_company,omitempty"`
	// NYDFSCovered is a covered entity under 23 NYCRR 500.
	NYDFSCovered bool `json:"nydfs_covered,omitempty" yaml:"nydfs_covered,omitempty"`
	// HIPAACovered is a covered entity or business associate under HIPAA.
	HIPAACovered bool `json:"hipaa_covered,omitempty" yaml:"hipaa_covered,omitempty"`
	// EUEstablishment is the member state of our main EU establishment
	// (lead supervisory authority); empty means none, and every authority
	// where affected people live must be told.
	EUEstablishment string `json:"eu_establishment,omitempty" yaml:"eu_establishment,omitempty"`
}

// Exposure is what the blast radius found, in the form the clocks and the
// notification pack read.
type Exposure struct {
	// Categories are the data categories exposed: what we sent in the
	// window that the vendor's statement covers (BlastRadius.Exposed).
	Categories []string `json:"categories"`
	// Subjects counts the affected people.
	Subjects int64 `json:"subjects"`
	// ByJurisdiction counts affected people by where they live: ISO 3166-1
	// alpha-2 country codes ("DE", "GB"), and "US-CA"-style ISO 3166-2 codes
	// for US states and Canadian provinces. People of unknown residence are
	// counted under "unknown".
	ByJurisdiction map[string]int64 `json:"by_jurisdiction"`
}
