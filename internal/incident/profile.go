package incident

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/weaklink/weaklink/internal/yamlx"
)

// KindOrganization is the "kind" of the organization profile file. An
// inventory directory may hold it: apply skips documents of other kinds.
const KindOrganization = "organization"

// profileFile is the file form of Profile.
type profileFile struct {
	Kind    string `yaml:"kind"`
	Version int    `yaml:"version"`
	Profile `yaml:",inline"`
}

// ParseProfile reads an organization profile:
//
//	kind: organization
//	name: Acme Cloud, Inc.
//	contact: privacy@acme.example, +1 415 555 0100
//	website: acme.example
//	public_company: false
//	eu_establishment: IE
func ParseProfile(file string, data []byte) (Profile, error) {
	doc, err := yamlx.Parse(file, data)
	if err != nil {
		return Profile{}, err
	}
	var pf profileFile
	if err := doc.Decode(&pf); err != nil {
		return Profile{}, err
	}
	var errs yamlx.Errors
	bad := func(field, msg string) {
		n := doc.Find(field)
		if n == nil {
			n = doc.Root
		}
		errs = append(errs, yamlx.Error{File: file, Line: n.Line, Column: n.Column, Path: field, Message: msg})
	}
	if pf.Version != 0 && pf.Version != 1 {
		bad("version", fmt.Sprintf("%d: this weaklink reads version 1", pf.Version))
	}
	if pf.Kind != KindOrganization {
		bad("kind", fmt.Sprintf("must be %q", KindOrganization))
	}
	if strings.TrimSpace(pf.Name) == "" {
		bad("name", "required: letters are signed with it")
	}
	if strings.TrimSpace(pf.Contact) == "" {
		bad("contact", "required: how affected people and regulators reach you")
	}
	if e := pf.EUEstablishment; e != "" && !slices.Contains(EEAMembers, e) {
		bad("eu_establishment", fmt.Sprintf("%q: an ISO 3166-1 alpha-2 code of an EU/EEA member state, such as IE", e))
	}
	if err := errs.Err(); err != nil {
		return Profile{}, err
	}
	return pf.Profile, nil
}

// LoadProfile reads an organization profile file.
func LoadProfile(path string) (Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, err
	}
	return ParseProfile(path, data)
}
