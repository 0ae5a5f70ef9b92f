package incident

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	stixTestIDRe   = regexp.MustCompile(`^([a-z][a-z0-9-]*[a-z0-9])--[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	stixTestTimeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
)

// stixTestRequired are the required properties of each object type in STIX
// 2.1 (sections 3.2, 4.8, 4.9, 5.1, 7.2.1 and 8).
var stixTestRequired = map[string][]string{
	"identity":           {"type", "spec_version", "id", "created", "modified", "name"},
	"incident":           {"type", "spec_version", "id", "created", "modified", "name"},
	"relationship":       {"type", "spec_version", "id", "created", "modified", "relationship_type", "source_ref", "target_ref"},
	"marking-definition": {"type", "spec_version", "id", "created", "definition_type", "definition"},
}

// stixTestValidate checks a bundle the way a STIX 2.1 consumer would:
// required properties, identifier form, timestamps, and that every
// reference resolves within the bundle. It returns the objects by id.
func stixTestValidate(t *testing.T, b []byte) map[string]map[string]any {
	t.Helper()
	var bundle struct {
		Type    string           `json:"type"`
		ID      string           `json:"id"`
		Objects []map[string]any `json:"objects"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&bundle); err != nil {
		t.Fatal(err)
	}
	if bundle.Type != "bundle" {
		t.Errorf("bundle type = %q", bundle.Type)
	}
	if m := stixTestIDRe.FindStringSubmatch(bundle.ID); m == nil || m[1] != "bundle" {
		t.Errorf("bundle id %q is not bundle--<uuid>", bundle.ID)
	}
	byID := map[string]map[string]any{}
	for i, o := range bundle.Objects {
		typ, _ := o["type"].(string)
		req, known := stixTestRequired[typ]
		if !known {
			t.Errorf("objects[%d]: unexpected type %q", i, typ)
			continue
		}
		for _, prop := range req {
			if v, ok := o[prop]; !ok || v == "" || v == nil {
				t.Errorf("%s %v: required property %q missing", typ, o["id"], prop)
			}
		}
		if o["spec_version"] != "2.1" {
			t.Errorf("%s: spec_version = %v", typ, o["spec_version"])
		}
		id, _ := o["id"].(string)
		if m := stixTestIDRe.FindStringSubmatch(id); m == nil || m[1] != typ {
			t.Errorf("id %q is not %s--<uuid>", id, typ)
		}
		if _, dup := byID[id]; dup {
			t.Errorf("duplicate id %s", id)
		}
		byID[id] = o
		for _, prop := range []string{"created", "modified"} {
			if v, ok := o[prop]; ok {
				if s, _ := v.(string); !stixTestTimeRe.MatchString(s) {
					t.Errorf("%s.%s = %v: not RFC 3339 UTC with milliseconds", id, prop, v)
				}
			}
		}
		if c, m := o["created"], o["modified"]; m != nil && m.(string) < c.(string) {
			t.Errorf("%s: modified %v before created %v", id, m, c)
		}
		if typ == "relationship" && !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(o["relationship_type"].(string)) {
			t.Errorf("%s: relationship_type %v", id, o["relationship_type"])
		}
	}
	for id, o := range byID {
		var refs []string
		for _, prop := range []string{"created_by_ref", "source_ref", "target_ref"} {
			if v, ok := o[prop].(string); ok {
				refs = append(refs, v)
			}
		}
		if list, ok := o["object_marking_refs"].([]any); ok {
			for _, v := range list {
				refs = append(refs, v.(string))
			}
		}
		for _, r := range refs {
			if _, ok := byID[r]; !ok {
				t.Errorf("%s refers to %s, which is not in the bundle", id, r)
			}
		}
	}
	return byID
}

func TestSTIXBundleValid(t *testing.T) {
	b, err := STIXBundle(notifyMixpanelPack())
	if err != nil {
		t.Fatal(err)
	}
	objs := stixTestValidate(t, b)
	count := map[string]int{}
	var incident map[string]any
	for _, o := range objs {
		count[o["type"].(string)]++
		if o["type"] == "incident" {
			incident = o
		}
	}
	if count["identity"] != 2 || count["incident"] != 1 || count["relationship"] != 2 || count["marking-definition"] != 1 {
		t.Errorf("object counts = %v", count)
	}
	if incident["created"] != "2025-11-25T18:20:00.000Z" || incident["modified"] != "2025-11-26T09:30:00.000Z" {
		t.Errorf("incident times = %v, %v", incident["created"], incident["modified"])
	}
	if incident["name"] != "Mixpanel: analytics dataset exported after a smishing attack" {
		t.Errorf("incident name = %v", incident["name"])
	}
	desc, _ := incident["description"].(string)
	for _, want := range []string{"Mixpanel", "Email address (user.contact.email)", "People affected: 5"} {
		if !strings.Contains(desc, want) {
			t.Errorf("incident description lacks %q: %s", want, desc)
		}
	}
	creator, _ := incident["created_by_ref"].(string)
	if objs[creator]["name"] != "Acme Cloud, Inc." {
		t.Errorf("incident created_by_ref = %s, want our identity", creator)
	}
	// Both identities are related to the incident.
	related := map[string]bool{}
	for _, o := range objs {
		if o["type"] == "relationship" {
			if o["source_ref"] != incident["id"] || o["relationship_type"] != "related-to" {
				t.Errorf("relationship %v", o)
			}
			related[objs[o["target_ref"].(string)]["name"].(string)] = true
		}
	}
	if !related["Acme Cloud, Inc."] || !related["Mixpanel"] {
		t.Errorf("related identities = %v", related)
	}
	// No personal data: the recipients never reach the bundle.
	for _, r := range notifyMixpanelRecipients {
		if bytes.Contains(b, []byte(r.Subject)) {
			t.Errorf("bundle contains subject %s", r.Subject)
		}
	}
}

func TestSTIXDeterministicIDs(t *testing.T) {
	p := notifyMixpanelPack()
	a, err := STIXBundle(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := STIXBundle(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two bundles of the same incident differ")
	}
	q := notifyMixpanelPack()
	q.Incident.ID = "019ab8a2-5c10-7d3e-9a41-6f0e2b7c8d12"
	c, err := STIXBundle(q)
	if err != nil {
		t.Fatal(err)
	}
	ids := regexp.MustCompile(`"(?:identity|incident|relationship|bundle)--[0-9a-f-]{36}"`)
	seen := map[string]bool{}
	for _, id := range ids.FindAllString(string(a), -1) {
		seen[id] = true
	}
	for _, id := range ids.FindAllString(string(c), -1) {
		if seen[id] {
			t.Errorf("id %s is shared by two incidents", id)
		}
	}
	stixTestValidate(t, c)
}

func TestSTIXUUID5(t *testing.T) {
	// RFC 9562 appendix A.4: the DNS namespace and "www.example.com".
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	if got := stixUUID5(dns, "www.example.com"); got != "2ed6657d-e927-568b-95e1-2665a8aea6a2" {
		t.Errorf("stixUUID5 = %s", got)
	}
}

func TestSTIXTimes(t *testing.T) {
	tz := time.FixedZone("CET", 3600)
	if got := stixTime(time.Date(2025, 11, 9, 1, 2, 3, 456789000, tz)); got != "2025-11-09T00:02:03.456Z" {
		t.Errorf("stixTime = %s", got)
	}
	p := notifyMixpanelPack()
	p.Incident.UpdatedAt = p.Incident.CreatedAt.Add(-time.Hour) // clock skew
	b, err := STIXBundle(p)
	if err != nil {
		t.Fatal(err)
	}
	stixTestValidate(t, b)
}

func TestSTIXHostileAndSubprocessor(t *testing.T) {
	p := notifyHostilePack()
	b, err := STIXBundle(p)
	if err != nil {
		t.Fatal(err)
	}
	objs := stixTestValidate(t, b)
	var identities int
	for _, o := range objs {
		if o["type"] == "identity" {
			identities++
		}
	}
	if identities != 3 { // us, the vendor, and Segment using it
		t.Errorf("%d identities, want 3", identities)
	}
	// JSON keeps the text as it is; consumers escape it for display.
	if !bytes.Contains(b, []byte(`Evil <script>alert(\"x\")</script> & Co`)) {
		t.Error("vendor name not kept verbatim in JSON")
	}
}

func TestSTIXRequiresIDAndName(t *testing.T) {
	p := notifyMixpanelPack()
	p.Incident.ID = ""
	if _, err := STIXBundle(p); err == nil {
		t.Error("no incident id: no error")
	}
	p = notifyMixpanelPack()
	p.Profile.Name = ""
	if _, err := STIXBundle(p); err == nil {
		t.Error("no organisation name: no error")
	}
}
