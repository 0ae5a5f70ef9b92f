// Package catalog is weaklink's embedded catalog of well-known vendors: their
// domains and ingest hosts, the SDK packages that reach them in each package
// ecosystem, and the data categories their SDKs collect by default.
// Discovery matches code and traffic against it; the inventory fills vendor
// details from it.
package catalog

import (
	_ "embed"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed catalog.yaml
var embedded []byte

// Ecosystems are the package ecosystems the catalog knows.
var Ecosystems = []string{"npm", "pypi", "go", "maven", "rubygems", "nuget", "composer", "cocoapods", "swiftpm", "cargo"}

// Entry is one vendor in the catalog.
type Entry struct {
	ID          string `yaml:"id" json:"id"`
	Name        string `yaml:"name" json:"name"`
	LegalEntity string `yaml:"legal_entity,omitempty" json:"legal_entity,omitempty"`
	Category    string `yaml:"category" json:"category"`
	Website     string `yaml:"website" json:"website"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Domains are registrable domains (example.com) the vendor operates.
	Domains []string `yaml:"domains" json:"domains"`
	// Hosts are ingest and API hostnames that receive customer data.
	Hosts []string `yaml:"hosts,omitempty" json:"hosts,omitempty"`
	// Packages maps an ecosystem (see Ecosystems) to the vendor's SDK packages.
	Packages map[string][]string `yaml:"packages,omitempty" json:"packages,omitempty"`
	// Collects are the taxonomy keys the vendor's SDK collects by default.
	Collects []string `yaml:"collects,omitempty" json:"collects,omitempty"`
	// SDKCalls are method names that send data to the vendor (track, identify…).
	SDKCalls []string `yaml:"sdk_calls,omitempty" json:"sdk_calls,omitempty"`
	// EnvKeys are configuration keys that name the vendor (MIXPANEL_TOKEN…).
	EnvKeys []string `yaml:"env_keys,omitempty" json:"env_keys,omitempty"`
}

// Catalog is an immutable, indexed set of entries.
type Catalog struct {
	Version   string
	entries   []Entry
	byID      map[string]int
	byDomain  map[string]int // registrable domains and hosts
	byPackage map[string]int // ecosystem + "\x00" + lower-cased package name
	byEnvKey  map[string]int
}

type file struct {
	Version string  `yaml:"version"`
	Vendors []Entry `yaml:"vendors"`
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
)

// Default returns the embedded catalog. It panics only if the embedded file is
// invalid, which the tests rule out.
func Default() *Catalog {
	defaultOnce.Do(func() {
		c, err := Parse(embedded)
		if err != nil {
			panic("catalog: embedded catalog.yaml: " + err.Error())
		}
		defaultCat = c
	})
	return defaultCat
}

// Load reads a catalog file that replaces the embedded one.
func Load(r io.Reader) (*Catalog, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse decodes and indexes a catalog document. Structural checks that need
// the taxonomy live in Validate.
func Parse(b []byte) (*Catalog, error) {
	var f file
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c := &Catalog{
		Version:   f.Version,
		entries:   f.Vendors,
		byID:      map[string]int{},
		byDomain:  map[string]int{},
		byPackage: map[string]int{},
		byEnvKey:  map[string]int{},
	}
	sort.SliceStable(c.entries, func(i, j int) bool { return c.entries[i].ID < c.entries[j].ID })
	for i, e := range c.entries {
		if e.ID == "" {
			return nil, fmt.Errorf("catalog: vendor %q has no id", e.Name)
		}
		if _, dup := c.byID[e.ID]; dup {
			return nil, fmt.Errorf("catalog: duplicate vendor id %q", e.ID)
		}
		c.byID[e.ID] = i
		for _, d := range append(slices.Clone(e.Domains), e.Hosts...) {
			d = strings.ToLower(d)
			if j, dup := c.byDomain[d]; dup && j != i {
				return nil, fmt.Errorf("catalog: domain %q claimed by %s and %s", d, c.entries[j].ID, e.ID)
			}
			c.byDomain[d] = i
		}
		for eco, pkgs := range e.Packages {
			for _, p := range pkgs {
				k := packageKey(eco, p)
				if j, dup := c.byPackage[k]; dup && j != i {
					return nil, fmt.Errorf("catalog: %s package %q claimed by %s and %s", eco, p, c.entries[j].ID, e.ID)
				}
				c.byPackage[k] = i
			}
		}
		for _, k := range e.EnvKeys {
			k = strings.ToUpper(k)
			if j, dup := c.byEnvKey[k]; dup && j != i {
				return nil, fmt.Errorf("catalog: env key %q claimed by %s and %s", k, c.entries[j].ID, e.ID)
			}
			c.byEnvKey[k] = i
		}
	}
	return c, nil
}

// All returns every entry in id order. The slice must not be modified.
func (c *Catalog) All() []Entry { return c.entries }

// Get returns the entry with the given id.
func (c *Catalog) Get(id string) (Entry, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Entry{}, false
	}
	return c.entries[i], true
}

// IDs returns every entry id in order.
func (c *Catalog) IDs() []string {
	out := make([]string, len(c.entries))
	for i, e := range c.entries {
		out[i] = e.ID
	}
	return out
}

// ByHost returns the vendor that operates host: an exact host or registrable
// domain of an entry, or any parent domain of host that is one
// (eu.i.posthog.com → posthog.com).
func (c *Catalog) ByHost(host string) (Entry, bool) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for h := host; h != ""; {
		if i, ok := c.byDomain[h]; ok {
			return c.entries[i], true
		}
		dot := strings.IndexByte(h, '.')
		if dot < 0 {
			break
		}
		h = h[dot+1:]
	}
	return Entry{}, false
}

// ByPackage returns the vendor whose SDK is the named package in ecosystem.
// Package names compare case-insensitively, and PyPI names also ignore the
// difference between -, _ and . (PEP 503). In the go ecosystem name may also
// be an import path inside a listed module or carry a major-version suffix
// (github.com/stripe/stripe-go/v82/customer → github.com/stripe/stripe-go,
// gopkg.in/DataDog/dd-trace-go.v1), so the catalog lists each module once.
func (c *Catalog) ByPackage(ecosystem, name string) (Entry, bool) {
	if i, ok := c.byPackage[packageKey(ecosystem, name)]; ok {
		return c.entries[i], true
	}
	if ecosystem != "go" {
		return Entry{}, false
	}
	for p := strings.TrimSuffix(strings.ToLower(name), "/"); strings.Contains(p, "/"); p = p[:strings.LastIndexByte(p, '/')] {
		if i, ok := c.byPackage["go\x00"+p]; ok {
			return c.entries[i], true
		}
		if q, ok := trimGoMajor(p); ok {
			if i, ok := c.byPackage["go\x00"+q]; ok {
				return c.entries[i], true
			}
		}
	}
	return Entry{}, false
}

// packageKey is the index key of a package: the ecosystem and the name
// lower-cased, with PyPI names normalized as PEP 503 prescribes.
func packageKey(ecosystem, name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if ecosystem == "pypi" {
		var b strings.Builder
		inRun := false
		for _, r := range name {
			if r == '-' || r == '_' || r == '.' {
				if !inRun {
					b.WriteByte('-')
				}
				inRun = true
				continue
			}
			inRun = false
			b.WriteRune(r)
		}
		name = b.String()
	}
	return ecosystem + "\x00" + name
}

// trimGoMajor removes a Go major-version suffix from a module path:
// example.com/mod/v2 → example.com/mod and gopkg.in/pkg.v3 → gopkg.in/pkg.
func trimGoMajor(p string) (string, bool) {
	slash := strings.LastIndexByte(p, '/')
	last := p[slash+1:]
	if slash > 0 && len(last) > 1 && last[0] == 'v' && isDigits(last[1:]) {
		return p[:slash], true
	}
	if strings.HasPrefix(p, "gopkg.in/") {
		if dot := strings.LastIndex(last, ".v"); dot > 0 && isDigits(last[dot+2:]) {
			return p[:slash+1+dot], true
		}
	}
	return "", false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ByEnvKey returns the vendor that a configuration key such as
// MIXPANEL_TOKEN names.
func (c *Catalog) ByEnvKey(key string) (Entry, bool) {
	i, ok := c.byEnvKey[strings.ToUpper(key)]
	if !ok {
		return Entry{}, false
	}
	return c.entries[i], true
}

// Search returns the entries matching text, best first: an exact id or name,
// then a name prefix, then a substring of the id, name, category, a domain or
// a package name. Matching is case-insensitive; every word of text must match.
func (c *Catalog) Search(text string) []Entry {
	words := strings.Fields(strings.ToLower(text))
	if len(words) == 0 {
		return slices.Clone(c.entries)
	}
	type hit struct {
		score int
		e     Entry
	}
	var hits []hit
	for _, e := range c.entries {
		total := 0
		for _, w := range words {
			s := score(e, w)
			if s == 0 {
				total = 0
				break
			}
			total += s
		}
		if total > 0 {
			hits = append(hits, hit{total, e})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	out := make([]Entry, len(hits))
	for i, h := range hits {
		out[i] = h.e
	}
	return out
}

func score(e Entry, w string) int {
	name := strings.ToLower(e.Name)
	switch {
	case e.ID == w || name == w:
		return 100
	case strings.HasPrefix(name, w) || strings.HasPrefix(e.ID, w):
		return 50
	case strings.Contains(name, w) || strings.Contains(e.ID, w):
		return 30
	case e.Category == w:
		return 20
	}
	for _, d := range append(slices.Clone(e.Domains), e.Hosts...) {
		if strings.Contains(d, w) {
			return 10
		}
	}
	for _, pkgs := range e.Packages {
		for _, p := range pkgs {
			if strings.Contains(strings.ToLower(p), w) {
				return 5
			}
		}
	}
	if strings.Contains(strings.ToLower(e.Description), w) {
		return 2
	}
	return 0
}
