package discover

import (
	"regexp"
	"strings"
)

var (
	reScript    = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	reScriptSrc = regexp.MustCompile(`(?i)\bsrc\s*=\s*["']?([^"'\s>]+)`)
	// snippetGlobals are the global functions and objects vendor snippets
	// define (gtag, fbq, hj, Intercom, analytics.load…).
	snippetGlobals = []struct {
		re     *regexp.Regexp
		vendor string
	}{
		{regexp.MustCompile(`\bgtag\s*\(|\bdataLayer\b`), "google-analytics"},
		{regexp.MustCompile(`\bfbq\s*\(`), "meta"},
		{regexp.MustCompile(`\bhj\s*\(|_hjSettings`), "hotjar"},
		{regexp.MustCompile(`\bIntercom\s*\(|intercomSettings`), "intercom"},
		{regexp.MustCompile(`\bmixpanel\.(?:init|track|identify|people)`), "mixpanel"},
		{regexp.MustCompile(`\banalytics\.(?:load|identify|track|page)\s*\(`), "segment"},
		{regexp.MustCompile(`\bposthog\.(?:init|identify|capture)\s*\(`), "posthog"},
		{regexp.MustCompile(`\bamplitude\.(?:init|track|setUserId)\s*\(`), "amplitude"},
		{regexp.MustCompile(`\bclarity\s*\(`), "microsoft-clarity"},
		{regexp.MustCompile(`\b_paq\.push`), "matomo"},
		{regexp.MustCompile(`\bFS\.identify|_fs_org`), "fullstory"},
		{regexp.MustCompile(`\bttq\.(?:load|track|identify)`), "tiktok"},
		{regexp.MustCompile(`\blintrk\s*\(|_linkedin_partner_id`), "linkedin"},
		{regexp.MustCompile(`\bzE\s*\(|zESettings`), "zendesk"},
		{regexp.MustCompile(`\bHubSpotConversations|_hsq\.push`), "hubspot"},
		{regexp.MustCompile(`\bdrift\.(?:load|identify)`), "drift"},
		{regexp.MustCompile(`\bLogRocket\.(?:init|identify)`), "logrocket"},
		{regexp.MustCompile(`\bSentry\.(?:init|setUser)`), "sentry"},
		{regexp.MustCompile(`\bDD_RUM\.`), "datadog"},
		{regexp.MustCompile(`\bplausible\s*\(`), "plausible"},
	}
)

// snippets finds vendor script tags and inline snippet loaders, and the
// data the inline scripts pass to them (window.intercomSettings = {email…},
// gtag('config', id, {user_id…}), fbq('init', id, {em…})).
func (fc *fileScan) snippets() {
	var lastSrcVendor string
	for _, m := range reScript.FindAllSubmatchIndex(fc.raw, -1) {
		attrs := string(fc.raw[m[2]:m[3]])
		body := string(fc.raw[m[4]:m[5]])
		if sm := reScriptSrc.FindStringSubmatch(attrs); sm != nil {
			lastSrcVendor = ""
			if host := hostOf(sm[1]); host != "" {
				if v, _, ok := fc.s.Vendors.Host(host); ok {
					fc.add(v, KindSnippet, m[0], "script "+strings.ToLower(host), nil)
					lastSrcVendor = v
				}
			}
			continue
		}
		vendors := map[string]bool{}
		for _, um := range reURL.FindAllStringSubmatch(body, -1) {
			if v, _, ok := fc.s.Vendors.Host(um[1]); ok {
				vendors[v] = true
			}
		}
		for _, g := range snippetGlobals {
			if _, known := fc.s.Vendors.Catalog.Get(g.vendor); known && g.re.MatchString(body) {
				vendors[g.vendor] = true
			}
		}
		if len(vendors) == 0 && lastSrcVendor != "" {
			vendors[lastSrcVendor] = true // the inline half of a two-tag snippet
		}
		lastSrcVendor = ""
		var cats []Category
		for _, e := range elements(body) {
			if !e.strong {
				continue
			}
			if f, ok := fc.s.Classifier.FieldName(e.name); ok && f.Category != "" {
				cats = addCategory(cats, Category{Key: f.Category, Confidence: round2(f.Confidence - 0.1), Element: e.text})
			}
		}
		for v := range vendors {
			fc.add(v, KindSnippet, m[0], "inline script", cats)
		}
	}
}

// hostOf returns the host of a URL or protocol-relative URL.
func hostOf(u string) string {
	u = strings.TrimSpace(u)
	if i := strings.Index(u, "//"); i >= 0 && (i == 0 || strings.HasSuffix(u[:i], ":")) {
		u = u[i+2:]
	} else {
		return ""
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	return u
}

var (
	// envPrefixes are framework prefixes that expose a key to the browser.
	envPrefixes = []string{"NEXT_PUBLIC_", "REACT_APP_", "VITE_", "VUE_APP_", "NUXT_PUBLIC_", "NUXT_ENV_", "EXPO_PUBLIC_", "PUBLIC_", "GATSBY_", "STORYBOOK_"}
	// secretWords end config keys that carry a vendor credential or endpoint.
	secretWords = []string{"TOKEN", "KEY", "SECRET", "DSN", "WRITE_KEY", "APP_ID", "API_KEY", "PROJECT_ID", "SITE", "HOST", "URL", "ENDPOINT", "CLIENT_ID", "ACCOUNT", "ORG", "ID"}
)

// configKeys finds configuration keys that name a vendor: the catalog's
// (MIXPANEL_TOKEN, SENTRY_DSN) and brand-prefixed credentials
// (DATADOG_API_KEY).
func (fc *fileScan) configKeys() {
	seen := map[string]bool{}
	for _, m := range envKeys(fc.src) {
		key := string(fc.src[m[0]:m[1]])
		if seen[key] {
			continue
		}
		vendor, ok := fc.envVendor(key)
		if !ok {
			continue
		}
		seen[key] = true
		fc.add(vendor, KindConfigKey, m[0], key, nil)
	}
}

func (fc *fileScan) envVendor(key string) (string, bool) {
	for _, k := range append([]string{key}, strippedEnv(key)...) {
		if id, _, ok := fc.s.Vendors.EnvKey(k); ok {
			return id, true
		}
	}
	for _, k := range append([]string{key}, strippedEnv(key)...) {
		word, rest, ok := strings.Cut(k, "_")
		if !ok {
			continue
		}
		v, ok := fc.s.idx.envWords[word]
		if !ok {
			continue
		}
		for _, w := range secretWords {
			if rest == w || strings.HasSuffix(rest, "_"+w) {
				return v, true
			}
		}
	}
	return "", false
}

func strippedEnv(key string) []string {
	var out []string
	for _, p := range envPrefixes {
		if strings.HasPrefix(key, p) {
			out = append(out, strings.TrimPrefix(key, p))
		}
	}
	return out
}

var reCSP = regexp.MustCompile(`(?i)content-security-policy[^\n]*`)

// csp finds vendor hosts that a Content-Security-Policy allows, in server
// config, meta tags and header files.
func (fc *fileScan) csp() {
	lines := newExcerpt(fc.raw, "ecurity-", "ECURITY-") // Content-Security-Policy, any case
	for _, m := range reCSP.FindAllIndex(lines.text, -1) {
		line := string(lines.text[m[0]:m[1]])
		seen := map[string]bool{}
		for _, tok := range strings.FieldsFunc(line, func(r rune) bool {
			return r == ' ' || r == ';' || r == '"' || r == '\'' || r == ',' || r == '\t'
		}) {
			host := strings.TrimPrefix(strings.TrimPrefix(tok, "https://"), "wss://")
			host = strings.TrimPrefix(host, "*.")
			if i := strings.IndexAny(host, "/:"); i >= 0 {
				host = host[:i]
			}
			v, _, ok := fc.s.Vendors.Host(host)
			if !ok || seen[v] {
				continue
			}
			seen[v] = true
			fc.add(v, KindEndpoint, lines.orig(m[0]), "csp "+strings.ToLower(host), nil)
		}
	}
}

var reTFBlock = regexp.MustCompile(`(?m)^[ \t]*(?:provider|resource|data)\s+"([a-z0-9]+)(?:_[\w-]*)?"|source\s*=\s*"[\w.-]*/?([\w-]+)/([\w-]+)"`)

// terraform finds Terraform providers, resources and data sources of
// vendors (provider "datadog", resource "sentry_project").
func (fc *fileScan) terraform() {
	seen := map[string]bool{}
	for _, m := range reTFBlock.FindAllSubmatchIndex(fc.src, -1) {
		name := ""
		if m[2] >= 0 {
			name = string(fc.src[m[2]:m[3]])
		} else if m[6] >= 0 {
			name = string(fc.src[m[6]:m[7]])
		}
		v, ok := fc.s.idx.brands[strings.ToLower(name)]
		if !ok {
			if e, found := fc.s.Vendors.Catalog.Get(strings.ToLower(name)); found {
				v, ok = e.ID, true
			}
		}
		if !ok || seen[v] {
			continue
		}
		seen[v] = true
		fc.add(v, KindConfigKey, m[0], "terraform "+name, nil)
	}
}
