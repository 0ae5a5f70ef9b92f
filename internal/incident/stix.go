package incident

import (
	"bytes"
	"cmp"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/taxonomy"
)

// The STIX 2.1 bundle describes the incident for peers (a sector ISAC, other
// customers of the vendor) without any personal data: who we are, which
// vendor was breached, and an incident object with the categories exposed
// and the counts.
//
// Objects: a TLP:AMBER marking definition (the standard object of the STIX
// 2.1 specification, section 7.2.1.4), an identity for us, one for the
// breached vendor and one for each of our vendors affected through it, the
// incident, and "related-to" relationships from the incident to each
// identity. STIX 2.1 leaves the incident's relationship table blank
// ("relationships can be created between any objects using the related-to
// relationship type"), so related-to is the one the specification allows,
// and each relationship's description says how they are related.
//
// Identifiers are UUIDv5 (RFC 9562 name-based, SHA-1) in stixNamespace of
// "<incident id>/<role>", so the same incident gives the same bundle byte
// for byte. The specification recommends (SHOULD) UUIDv4 for domain
// objects; name-based UUIDs are still RFC-compliant and make re-exports
// idempotent for the receiver. Timestamps are RFC 3339 in UTC with
// millisecond precision.

// stixNamespace is weaklink's UUIDv5 namespace for STIX identifiers.
var stixNamespace = [16]byte{0x6b, 0x1e, 0x4f, 0x2a, 0x93, 0x0c, 0x4d, 0x57, 0x8a, 0x61, 0x2f, 0x4b, 0xd0, 0x9e, 0x37, 0xc5}

const (
	stixTLPAmber        = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	stixTLPAmberCreated = "2017-01-20T00:00:00.000Z"
)

// stixUUID5 is a name-based UUID (version 5) of name in namespace ns.
func stixUUID5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func stixID(typ, incidentID, role string) string {
	return typ + "--" + stixUUID5(stixNamespace, incidentID+"/"+role)
}

// stixTime formats a STIX timestamp: UTC, milliseconds, "Z".
func stixTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// stixObject is one STIX object. Fields are in the order the specification
// lists them; empty optional properties are left out.
type stixObject struct {
	Type               string            `json:"type"`
	SpecVersion        string            `json:"spec_version"`
	ID                 string            `json:"id"`
	CreatedByRef       string            `json:"created_by_ref,omitempty"`
	Created            string            `json:"created"`
	Modified           string            `json:"modified,omitempty"`
	Name               string            `json:"name,omitempty"`
	Description        string            `json:"description,omitempty"`
	IdentityClass      string            `json:"identity_class,omitempty"`
	ContactInformation string            `json:"contact_information,omitempty"`
	RelationshipType   string            `json:"relationship_type,omitempty"`
	SourceRef          string            `json:"source_ref,omitempty"`
	TargetRef          string            `json:"target_ref,omitempty"`
	Labels             []string          `json:"labels,omitempty"`
	DefinitionType     string            `json:"definition_type,omitempty"`
	Definition         map[string]string `json:"definition,omitempty"`
	ObjectMarkingRefs  []string          `json:"object_marking_refs,omitempty"`
}

type stixBundle struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Objects []stixObject `json:"objects"`
}

// STIXBundle returns the incident as an indented STIX 2.1 bundle. It needs
// the incident's id and our organisation's name; the times come from the
// incident (created from CreatedAt, modified from UpdatedAt, each falling
// back on the other and on GeneratedAt).
func STIXBundle(p Pack) ([]byte, error) {
	in := p.Incident
	if in.ID == "" {
		return nil, errors.New("incident: stix: the incident has no id")
	}
	if p.Profile.Name == "" {
		return nil, errors.New("incident: stix: our organisation has no name (profile name)")
	}
	tree := p.Taxonomy
	if tree == nil {
		tree = taxonomy.Default()
	}
	createdT := cmp.Or(in.CreatedAt, in.UpdatedAt, p.GeneratedAt)
	modifiedT := cmp.Or(in.UpdatedAt, createdT)
	if createdT.IsZero() {
		return nil, errors.New("incident: stix: the incident has no creation or update time")
	}
	if modifiedT.Before(createdT) {
		modifiedT = createdT
	}
	created, modified := stixTime(createdT), stixTime(modifiedT)
	marking := []string{stixTLPAmber}

	us := stixObject{
		Type: "identity", SpecVersion: "2.1", ID: stixID("identity", in.ID, "reporter"),
		Created: created, Modified: modified,
		Name: p.Profile.Name, IdentityClass: "organization",
		Description:        "The organisation that reports this incident; the breached vendor held data it had sent.",
		ContactInformation: p.Profile.Contact,
		ObjectMarkingRefs:  marking,
	}
	vendorName := cmp.Or(p.Vendor, in.Vendor)
	if vendorName == "" {
		return nil, errors.New("incident: stix: the incident names no vendor")
	}
	vendor := stixObject{
		Type: "identity", SpecVersion: "2.1", ID: stixID("identity", in.ID, "vendor"),
		CreatedByRef: us.ID, Created: created, Modified: modified,
		Name: vendorName, IdentityClass: "organization",
		Description:       "The vendor (or subprocessor) whose systems were breached.",
		ObjectMarkingRefs: marking,
	}
	incident := stixObject{
		Type: "incident", SpecVersion: "2.1", ID: stixID("incident", in.ID, "incident"),
		CreatedByRef: us.ID, Created: created, Modified: modified,
		Name:              cmp.Or(in.Title, "Breach at "+vendorName),
		Description:       stixDescription(p, tree, vendorName),
		ObjectMarkingRefs: marking,
	}
	if in.Severity != "" {
		incident.Labels = []string{"severity:" + in.Severity}
	}

	objs := []stixObject{
		{
			Type: "marking-definition", SpecVersion: "2.1", ID: stixTLPAmber, Created: stixTLPAmberCreated,
			Name: "TLP:AMBER", DefinitionType: "tlp", Definition: map[string]string{"tlp": "amber"},
		},
		us, vendor,
	}
	type rel struct {
		target, role, description string
	}
	rels := []rel{
		{vendor.ID, "vendor", "The breach happened in this vendor's systems."},
		{us.ID, "reporter", "This organisation's data, held by the vendor, was exposed; it reports the incident."},
	}
	seen := map[string]bool{vendorName: true, in.Vendor: true}
	for _, a := range p.Affected {
		if seen[a] {
			continue
		}
		seen[a] = true
		role := "affected/" + a
		o := stixObject{
			Type: "identity", SpecVersion: "2.1", ID: stixID("identity", in.ID, role),
			CreatedByRef: us.ID, Created: created, Modified: modified,
			Name: a, IdentityClass: "organization",
			Description:       "A vendor of the reporting organisation that uses the breached vendor as a subprocessor.",
			ObjectMarkingRefs: marking,
		}
		objs = append(objs, o)
		rels = append(rels, rel{o.ID, role, "Affected through its use of the breached vendor as a subprocessor."})
	}
	objs = append(objs, incident)
	for _, r := range rels {
		objs = append(objs, stixObject{
			Type: "relationship", SpecVersion: "2.1", ID: stixID("relationship", in.ID, "related-to/"+r.role),
			CreatedByRef: us.ID, Created: created, Modified: modified,
			RelationshipType: "related-to", SourceRef: incident.ID, TargetRef: r.target,
			Description:       r.description,
			ObjectMarkingRefs: marking,
		})
	}
	b := stixBundle{
		Type:    "bundle",
		ID:      "bundle--" + stixUUID5(stixNamespace, in.ID+"/bundle/"+modified),
		Objects: objs,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return nil, fmt.Errorf("incident: stix: %w", err)
	}
	return buf.Bytes(), nil
}

// stixDescription says what was exposed and how many people, without any
// personal data.
func stixDescription(p Pack, tree *taxonomy.Tree, vendorName string) string {
	in := p.Incident
	var b strings.Builder
	fmt.Fprintf(&b, "Personal-data breach at %s.", vendorName)
	if t, ok := in.Time(AnchorVendorDiscovered); ok {
		fmt.Fprintf(&b, " The vendor discovered it on %s.", t.UTC().Format("2006-01-02"))
	}
	if t, ok := in.Time(AnchorVendorNotified); ok {
		fmt.Fprintf(&b, " It told %s on %s.", p.Profile.Name, t.UTC().Format("2006-01-02"))
	}
	cats := p.Exposure.Categories
	if len(cats) == 0 {
		cats = in.Categories
	}
	cats = packDedupe(cats)
	if len(cats) > 0 {
		var names []string
		for _, k := range cats {
			if c, ok := tree.Get(k); ok {
				names = append(names, c.Name+" ("+k+")")
			} else {
				names = append(names, k)
			}
		}
		fmt.Fprintf(&b, " Data categories exposed: %s.", strings.Join(names, ", "))
	}
	if n := p.Exposure.Subjects; n > 0 {
		fmt.Fprintf(&b, " People affected: %s.", packNum(n))
	}
	return b.String()
}
