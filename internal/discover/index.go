package discover

import (
	"sort"
	"strings"
	"unicode"

	"github.com/weaklink/weaklink/internal/catalog"
)

// index holds the lookups source scanning needs, built once from the catalog.
type index struct {
	maven    []prefixVendor    // Java/Kotlin package prefixes (maven group ids), longest first
	composer map[string]string // PHP root namespace, lower-cased → vendor
	brands   map[string]string // brand identifier, lower-cased → vendor ("mixpanel", "sentry")
	calls    map[string]map[string]bool
	envWords map[string]string // upper-case brand word in config keys → vendor ("DATADOG")
}

type prefixVendor struct{ prefix, vendor string }

// genericBrands are vendor names that are also ordinary words in code; they
// never bind an identifier by name alone.
var genericBrands = map[string]bool{
	"segment": true, "analytics": true, "redis": true, "mongodb": true, "mongo": true, "postgres": true, "mysql": true, "kafka": true, "rabbitmq": true, "elasticsearch": true, "google": true, "amazon": true, "microsoft": true, "meta": true,
	"apple": true, "heap": true, "drift": true, "front": true, "box": true, "linear": true, "notion": true,
	"zoom": true, "slack": true, "split": true, "loom": true, "pendo": false, "cloud": true, "stream": true,
	"twitter": true, "reddit": true, "github": true, "gitlab": true, "datadog": false, "mux": true, "render": true,
	"fly": true, "netlify": false, "vercel": false, "plaid": false, "checkout": true, "square": true, "adyen": false,
	"customer": true, "rollbar": false, "raygun": false, "bugsnag": false, "iterable": true, "braze": false,
	"klaviyo": false, "mailgun": false, "postmark": true, "resend": true, "pusher": false, "ably": false,
	"auth0": false, "okta": false, "clerk": true, "stytch": false, "algolia": false, "pinecone": false,
	"cohere": false, "mistral": false, "openai": false, "anthropic": false, "airtable": false, "zendesk": false,
	"freshdesk": false, "hubspot": false, "salesforce": false, "marketo": false, "pipedrive": false,
	"fastly": false, "cloudflare": false, "akamai": false, "twilio": false, "vonage": false, "plausible": false,
	"fathom": true, "matomo": false, "hotjar": false, "fullstory": false, "logrocket": false, "mouseflow": false,
	"smartlook": false, "clarity": true, "kissmetrics": false, "statsig": false, "launchdarkly": false,
	"optimizely": false, "newrelic": false, "honeycomb": true, "dynatrace": false, "elastic": true, "grafana": false,
	"snowflake": true, "databricks": false, "fivetran": false, "rudderstack": false, "mparticle": false,
	"amplitude": false, "posthog": false, "mixpanel": false, "sentry": false, "stripe": false, "intercom": false,
}

func newIndex(c *catalog.Catalog) *index {
	x := &index{composer: map[string]string{}, brands: map[string]string{}, calls: map[string]map[string]bool{}, envWords: map[string]string{}}
	if c == nil {
		return x
	}
	for _, e := range c.All() {
		for _, p := range e.Packages["maven"] {
			group, _, _ := strings.Cut(p, ":")
			x.maven = append(x.maven, prefixVendor{group, e.ID})
		}
		for _, p := range e.Packages["composer"] {
			vend, pkg, _ := strings.Cut(strings.ToLower(p), "/")
			if _, taken := x.composer[vend]; !taken {
				x.composer[vend] = e.ID
			}
			joined := strings.NewReplacer("-", "", "_", "").Replace(vend + pkg)
			x.composer[joined] = e.ID
			x.composer[strings.NewReplacer("-", "", "_", "").Replace(pkg)] = e.ID
		}
		for _, b := range brandWords(e) {
			if !genericBrands[b] {
				x.brands[b] = e.ID
			}
			if _, taken := x.envWords[strings.ToUpper(b)]; !taken && len(b) >= 4 && !genericBrands[b] {
				x.envWords[strings.ToUpper(b)] = e.ID
			}
		}
		calls := map[string]bool{}
		for _, call := range e.SDKCalls {
			calls[strings.ToLower(call)] = true
			if i := strings.LastIndexByte(call, '.'); i >= 0 {
				calls[strings.ToLower(call[i+1:])] = true
			}
		}
		x.calls[e.ID] = calls
	}
	sort.SliceStable(x.maven, func(i, j int) bool { return len(x.maven[i].prefix) > len(x.maven[j].prefix) })
	return x
}

// brandWords are the identifiers that name a vendor in code: its id and
// the first word of its name, lower-cased, when at least 4 letters long.
func brandWords(e catalog.Entry) []string {
	var out []string
	add := func(w string) {
		w = strings.ToLower(strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return r
			}
			return -1
		}, w))
		if len(w) >= 4 && !strings.Contains(strings.Join(out, " "), w) {
			out = append(out, w)
		}
	}
	if !strings.Contains(e.ID, "-") {
		add(e.ID)
	}
	if f := strings.Fields(e.Name); len(f) > 0 {
		add(f[0])
	}
	return out
}

// javaVendor maps a Java or Kotlin import to the vendor whose maven group
// prefixes it.
func (x *index) javaVendor(imp string) (string, bool) {
	for _, pv := range x.maven {
		if imp == pv.prefix || strings.HasPrefix(imp, pv.prefix+".") {
			return pv.vendor, true
		}
	}
	// Packages often drop the group's last word (com.braze → com.braze.ui).
	for _, pv := range x.maven {
		if i := strings.LastIndexByte(pv.prefix, '.'); i > 0 && strings.Count(pv.prefix, ".") >= 2 {
			if p := pv.prefix[:i]; strings.HasPrefix(imp, p+".") {
				return pv.vendor, true
			}
		}
	}
	return "", false
}

// brand returns the vendor an identifier names by itself: "Mixpanel",
// "mixpanelClient", "SentrySDK", "$stripe", "StripeClient".
func (x *index) brand(ident string) (string, bool) {
	ident = strings.TrimLeft(ident, "$_")
	lower := strings.ToLower(ident)
	if v, ok := x.brands[lower]; ok {
		return v, true
	}
	return x.brandPrefix(ident)
}

// brandPrefix matches an identifier that starts with a brand followed by a
// word boundary (MixpanelAPI, SentrySDK, stripe_client, StripePaymentSheet).
func (x *index) brandPrefix(ident string) (string, bool) {
	lower := strings.ToLower(ident)
	for n := len(lower) - 1; n >= 4; n-- {
		v, ok := x.brands[lower[:n]]
		if !ok {
			continue
		}
		next := ident[n]
		if next == '_' || ('A' <= next && next <= 'Z') || ('0' <= next && next <= '9') {
			return v, true
		}
	}
	return "", false
}
