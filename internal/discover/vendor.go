package discover

import (
	"net"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/weaklink/weaklink/internal/catalog"
)

// Vendors maps hostnames, packages and config keys to vendors: a catalog
// entry when the catalog knows one, the registrable domain otherwise.
type Vendors struct {
	Catalog *catalog.Catalog
	// FirstParty are registrable domains that belong to the organisation
	// itself; hosts under them are never vendors.
	FirstParty []string
}

// ignoredDomains are registrable domains that appear in code and captures
// but receive no personal data from it: documentation, schemas, examples
// and package registries.
var ignoredDomains = map[string]bool{
	"example.com": true, "example.org": true, "example.net": true, "localhost": true,
	"w3.org": true, "schema.org": true, "json-schema.org": true, "xmlsoap.org": true,
	"apache.org": true, "mozilla.org": true, "ietf.org": true, "opensource.org": true,
	"npmjs.com": true, "npmjs.org": true, "yarnpkg.com": true, "pypi.org": true,
	"golang.org": true, "go.dev": true, "rubygems.org": true, "maven.org": true,
	"gradle.org": true, "packagist.org": true, "nuget.org": true, "crates.io": true,
	"cocoapods.org": true, "github.com": true, "githubusercontent.com": true,
	"gitlab.com": true, "bitbucket.org": true, "gopkg.in": true, "wikipedia.org": true,
	"semver.org": true, "spdx.org": true, "purl.org": true, "ogp.me": true,
	"reactjs.org": true, "react.dev": true, "vuejs.org": true, "svelte.dev": true,
	"nodejs.org": true, "python.org": true, "ruby-lang.org": true, "php.net": true,
	"kotlinlang.org": true, "oracle.com": true, "microsoft.com": true,
	"stackoverflow.com": true, "x.org": true, "android.com": true, "apple.com": true, "schemas.microsoft.com": true,
}

// Host resolves a hostname. It returns ok=false for hosts that are not
// vendors: IP literals, single labels, first-party and ignored domains, and
// names without a registrable domain.
func (v *Vendors) Host(host string) (id, name string, ok bool) {
	host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" || !strings.Contains(host, ".") || net.ParseIP(host) != nil {
		return "", "", false
	}
	etld1, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return "", "", false
	}
	// Only ICANN suffixes make a real domain; "foo.bar" with an unlisted
	// suffix is a property path or a file name.
	if _, icann := publicsuffix.PublicSuffix(host); !icann {
		return "", "", false
	}
	for _, fp := range v.FirstParty {
		if etld1 == fp || host == fp || strings.HasSuffix(host, "."+fp) {
			return "", "", false
		}
	}
	if v.Catalog != nil {
		if e, ok := v.Catalog.ByHost(host); ok {
			return e.ID, e.Name, true
		}
	}
	if ignoredDomains[etld1] {
		return "", "", false
	}
	return UnknownPrefix + etld1, etld1, true
}

// Package resolves a package name in an ecosystem to a catalog vendor.
func (v *Vendors) Package(ecosystem, name string) (id, vname string, ok bool) {
	if v.Catalog == nil {
		return "", "", false
	}
	e, ok := v.Catalog.ByPackage(ecosystem, name)
	return e.ID, e.Name, ok
}

// EnvKey resolves a configuration key (MIXPANEL_TOKEN) to a catalog vendor.
func (v *Vendors) EnvKey(key string) (id, name string, ok bool) {
	if v.Catalog == nil {
		return "", "", false
	}
	e, ok := v.Catalog.ByEnvKey(key)
	return e.ID, e.Name, ok
}
