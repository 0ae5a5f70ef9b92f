package inventory

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/taxonomy"
)

// CycloneDXOptions controls WriteCycloneDX.
type CycloneDXOptions struct {
	// SerialNumber is the BOM's urn:uuid:… serial number. If empty, it is
	// derived from the content: a UUID with version nibble 5 and RFC 4122
	// variant bits made from the SHA-256 of the canonical inventory JSON (plus
	// the taxonomy version when Strict), so the same inventory always gets the
	// same serial number.
	SerialNumber string
	// Timestamp is metadata.timestamp; the zero time leaves it out.
	Timestamp time.Time
	// ToolVersion is the weaklink version recorded in metadata.tools.
	ToolVersion string
	// Taxonomy resolves data categories; nil means taxonomy.Default().
	Taxonomy *taxonomy.Tree
	// Strict exports weaklink's extension categories as their nearest
	// upstream fideslang category (see taxonomy.Tree.Fideslang), for consumers
	// that only know fideslang.
	Strict bool
}

// cdxPropPrefix is the namespace of weaklink's CycloneDX properties; cdxSpec
// the specification version written.
const (
	cdxPropPrefix = "weaklink:"
	cdxSpec       = "1.6"
)

var cdxTrue = true // x-trust-boundary: sending data to a vendor crosses one

var cdxSerialRe = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// WriteCycloneDX writes the inventory as a CycloneDX 1.6 JSON BOM: indented
// with two spaces, and byte-for-byte the same for the same inventory and
// options whatever the order of its lists.
//
// Every vendor is a service (bom-ref "vendor:<id>", trust zone "third-party")
// and every system is a service (bom-ref "system:<id>", trust zone
// "internal"). Each flow appears as service data on both ends, one entry per
// data category since a CycloneDX data flow has a single classification:
// "inbound" on the vendor, with the system as source, and "outbound" on the
// system, with the vendor as destination, both as BOM-Links
// (urn:cdx:<serial>/1#<bom-ref>). The dependency graph records which vendors
// each system sends data to and each vendor's subprocessors that are in the
// inventory. Fields CycloneDX has no place for (category, status,
// criticality, owner, catalog id, subprocessors, environment, repository, and
// each flow's system, purpose, legal basis, subjects, estimated subjects,
// source and first/last seen times) are "weaklink:" properties on the
// service; tags are both CycloneDX service tags and "weaklink:tag"
// properties. Flow evidence and store metadata are not exported.
func WriteCycloneDX(w io.Writer, inv Inventory, opts CycloneDXOptions) error {
	tree := opts.Taxonomy
	if tree == nil {
		tree = taxonomy.Default()
	}
	inv = cdxCanonical(inv)
	serial := strings.ToLower(strings.TrimSpace(opts.SerialNumber))
	if serial == "" {
		var err error
		if serial, err = cdxDeriveSerial(inv, opts.Strict, tree); err != nil {
			return err
		}
	} else if !cdxSerialRe.MatchString(serial) {
		return fmt.Errorf("cyclonedx: serial number %q is not of the form urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", opts.SerialNumber)
	}
	b := cdxBuilder{inv: inv, tree: tree, strict: opts.Strict, link: "urn:cdx:" + strings.TrimPrefix(serial, "urn:uuid:") + "/1#"}

	tool := cdxComponent{Type: "application", Name: "weaklink", Version: opts.ToolVersion}
	bom := cdxBOM{
		BOMFormat:    "CycloneDX",
		SpecVersion:  cdxSpec,
		SerialNumber: serial,
		Version:      1,
		Metadata: cdxMetadata{
			Lifecycles: []cdxLifecycle{{Phase: "operations"}},
			Tools:      cdxTools{Components: []cdxComponent{tool}},
			Properties: []cdxProperty{{Name: cdxPropPrefix + "taxonomy:version", Value: tree.Version}},
		},
	}
	if tree.Version == "" {
		bom.Metadata.Properties = nil
	}
	if opts.Strict {
		bom.Metadata.Properties = append(bom.Metadata.Properties, cdxProperty{Name: cdxPropPrefix + "taxonomy:strict", Value: "true"})
	}
	if !opts.Timestamp.IsZero() {
		bom.Metadata.Timestamp = opts.Timestamp.UTC().Format(time.RFC3339)
	}
	bom.Services, bom.Dependencies = b.services()

	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(bom)
}

// cdxCanonical returns a sorted copy of inv without what the BOM does not
// carry (store metadata, evidence), leaving the caller's slices untouched.
func cdxCanonical(inv Inventory) Inventory {
	out := Inventory{
		Vendors: slices.Clone(inv.Vendors),
		Systems: slices.Clone(inv.Systems),
		Flows:   slices.Clone(inv.Flows),
	}
	for i := range out.Vendors {
		out.Vendors[i].Meta = Meta{}
	}
	for i := range out.Systems {
		out.Systems[i].Meta = Meta{}
	}
	for i := range out.Flows {
		out.Flows[i].Meta = Meta{}
		out.Flows[i].Evidence = nil
	}
	out.Sort()
	return out
}

// cdxDeriveSerial makes a name-based UUID (version 5 layout, SHA-256 instead
// of SHA-1) from the canonical inventory.
func cdxDeriveSerial(inv Inventory, strict bool, tree *taxonomy.Tree) (string, error) {
	data, err := json.Marshal(inv)
	if err != nil {
		return "", fmt.Errorf("cyclonedx: %w", err)
	}
	h := sha256.New()
	h.Write(data)
	if strict {
		h.Write([]byte("\x00strict\x00" + tree.Version))
	}
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

type cdxBuilder struct {
	inv    Inventory
	tree   *taxonomy.Tree
	strict bool
	link   string // BOM-Link prefix: urn:cdx:<uuid>/1#
}

func cdxVendorRef(id string) string { return "vendor:" + id }
func cdxSystemRef(id string) string { return "system:" + id }

// bomLink is a BOM-Link to an element of this BOM.
func (b cdxBuilder) bomLink(ref string) string {
	return b.link + (&url.URL{Fragment: ref}).EscapedFragment()
}

// classifications returns the CycloneDX classifications of a flow's
// categories: sorted, de-duplicated, mapped to fideslang when strict.
func (b cdxBuilder) classifications(f Flow) []string {
	out := make([]string, 0, len(f.Categories))
	for _, c := range f.Categories {
		if b.strict {
			c = b.tree.Fideslang(c)
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (b cdxBuilder) services() ([]cdxService, []cdxDependency) {
	vendors := make(map[string]bool, len(b.inv.Vendors))
	for _, v := range b.inv.Vendors {
		vendors[v.ID] = true
	}
	systems := make(map[string]bool, len(b.inv.Systems))
	for _, s := range b.inv.Systems {
		systems[s.ID] = true
	}
	into := map[string][]Flow{} // vendor id → flows into it
	from := map[string][]Flow{} // system id → flows out of it
	for _, f := range b.inv.Flows {
		into[f.Vendor] = append(into[f.Vendor], f)
		from[f.System] = append(from[f.System], f)
	}

	var services []cdxService
	var deps []cdxDependency
	for _, v := range b.inv.Vendors {
		s := cdxService{
			BOMRef:        cdxVendorRef(v.ID),
			Name:          cmp.Or(v.Name, v.ID),
			Description:   v.Description,
			TrustBoundary: &cdxTrue,
			TrustZone:     "third-party",
			Tags:          v.Tags,
		}
		provider := cdxOrg{Name: cmp.Or(v.LegalEntity, v.Name)}
		if cdxAbsoluteURL(v.Website) {
			provider.URL = []string{v.Website}
		}
		if provider.Name != "" || provider.URL != nil {
			s.Provider = &provider
		}
		for _, d := range v.Domains {
			if e, ok := cdxEndpoint(d); ok {
				s.Endpoints = append(s.Endpoints, e)
			}
		}
		props := cdxProps{}
		props.add("category", v.Category)
		props.add("status", v.Status)
		props.add("criticality", v.Criticality)
		props.add("owner", v.Owner)
		props.add("catalog", v.Catalog)
		for _, t := range v.Tags {
			props.add("tag", t)
		}
		var dependsOn []string
		for _, sp := range v.Subprocessors {
			props.add("subprocessor", sp)
			if vendors[sp] && sp != v.ID {
				dependsOn = append(dependsOn, cdxVendorRef(sp))
			}
		}
		for _, f := range into[v.ID] {
			for _, c := range b.classifications(f) {
				d := cdxData{Flow: "inbound", Classification: c, Name: f.ID, Description: f.Description}
				if f.System != "" {
					d.Source = []string{b.bomLink(cdxSystemRef(f.System))}
				}
				s.Data = append(s.Data, d)
			}
			p := "flow:" + f.ID + ":"
			props.add(p+"system", f.System)
			props.add(p+"purpose", f.Purpose)
			props.add(p+"legal_basis", f.LegalBasis)
			for _, sub := range f.Subjects {
				props.add(p+"subject", sub)
			}
			if f.EstimatedSubjects != 0 {
				props.add(p+"estimated_subjects", strconv.FormatInt(f.EstimatedSubjects, 10))
			}
			props.add(p+"source", f.Source)
			props.add(p+"first_seen", csvTime(f.FirstSeen))
			props.add(p+"last_seen", csvTime(f.LastSeen))
		}
		s.Properties = props
		services = append(services, s)
		deps = append(deps, cdxDependency{Ref: s.BOMRef, DependsOn: dependsOn})
	}
	for _, sys := range b.inv.Systems {
		s := cdxService{
			BOMRef:      cdxSystemRef(sys.ID),
			Name:        cmp.Or(sys.Name, sys.ID),
			Description: sys.Description,
			TrustZone:   "internal",
			Tags:        sys.Tags,
		}
		if cdxAbsoluteURL(sys.Repository) {
			s.ExternalReferences = []cdxExtRef{{URL: sys.Repository, Type: "vcs"}}
		}
		props := cdxProps{}
		props.add("environment", sys.Environment)
		props.add("owner", sys.Owner)
		props.add("repository", sys.Repository)
		for _, t := range sys.Tags {
			props.add("tag", t)
		}
		var dependsOn []string
		for _, f := range from[sys.ID] {
			for _, c := range b.classifications(f) {
				d := cdxData{Flow: "outbound", Classification: c, Name: f.ID, Description: f.Description}
				if f.Vendor != "" {
					d.Destination = []string{b.bomLink(cdxVendorRef(f.Vendor))}
				}
				s.Data = append(s.Data, d)
			}
			if vendors[f.Vendor] {
				dependsOn = append(dependsOn, cdxVendorRef(f.Vendor))
			}
		}
		slices.Sort(dependsOn)
		s.Properties = props
		services = append(services, s)
		deps = append(deps, cdxDependency{Ref: s.BOMRef, DependsOn: slices.Compact(dependsOn)})
	}
	return services, deps
}

// cdxAbsoluteURL reports whether s is an absolute URL a BOM can carry as an
// IRI.
func cdxAbsoluteURL(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n\"<>\\^`{|}") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "")
}

// cdxEndpoint turns a vendor domain into an https endpoint URI.
func cdxEndpoint(d string) (string, bool) {
	if ip := net.ParseIP(d); ip != nil {
		if ip.To4() == nil {
			return "https://[" + ip.String() + "]", true
		}
		return "https://" + ip.String(), true
	}
	if !ValidHostname(d) {
		return "", false
	}
	return "https://" + d, true
}

type cdxProps []cdxProperty

func (p *cdxProps) add(name, value string) {
	if value != "" {
		*p = append(*p, cdxProperty{Name: cdxPropPrefix + name, Value: value})
	}
}

type cdxBOM struct {
	BOMFormat    string          `json:"bomFormat"`
	SpecVersion  string          `json:"specVersion"`
	SerialNumber string          `json:"serialNumber"`
	Version      int             `json:"version"`
	Metadata     cdxMetadata     `json:"metadata"`
	Services     []cdxService    `json:"services,omitempty"`
	Dependencies []cdxDependency `json:"dependencies,omitempty"`
}

type cdxMetadata struct {
	Timestamp  string         `json:"timestamp,omitempty"`
	Lifecycles []cdxLifecycle `json:"lifecycles,omitempty"`
	Tools      cdxTools       `json:"tools"`
	Properties []cdxProperty  `json:"properties,omitempty"`
}

type cdxLifecycle struct {
	Phase string `json:"phase"`
}

type cdxTools struct {
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type cdxService struct {
	BOMRef             string        `json:"bom-ref"`
	Provider           *cdxOrg       `json:"provider,omitempty"`
	Name               string        `json:"name"`
	Description        string        `json:"description,omitempty"`
	Endpoints          []string      `json:"endpoints,omitempty"`
	TrustBoundary      *bool         `json:"x-trust-boundary,omitempty"`
	TrustZone          string        `json:"trustZone,omitempty"`
	Data               []cdxData     `json:"data,omitempty"`
	ExternalReferences []cdxExtRef   `json:"externalReferences,omitempty"`
	Properties         []cdxProperty `json:"properties,omitempty"`
	Tags               []string      `json:"tags,omitempty"`
}

type cdxOrg struct {
	Name string   `json:"name,omitempty"`
	URL  []string `json:"url,omitempty"`
}

type cdxData struct {
	Flow           string   `json:"flow"`
	Classification string   `json:"classification"`
	Name           string   `json:"name,omitempty"`
	Description    string   `json:"description,omitempty"`
	Source         []string `json:"source,omitempty"`
	Destination    []string `json:"destination,omitempty"`
}

type cdxExtRef struct {
	URL  string `json:"url"`
	Type string `json:"type"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn,omitempty"`
}
