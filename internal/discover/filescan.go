package discover

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// fileScan is the scan of one source, markup or config file.
type fileScan struct {
	s      *Scanner
	rel    string
	raw    []byte // as read
	src    []byte // comments blanked
	li     lineIndex
	lang   lang
	system string
	binds  map[string]string // identifier → vendor
	// assigned are the names this file binds to SDK objects itself.
	assigned map[string]string
	// importLines are lines of import statements: the package paths
	// on them are not endpoints.
	importLines map[int]bool
	// uses caches literalFor's search of each identifier.
	uses map[string]*identUses
	out  []Finding
}

func (fc *fileScan) run() {
	if fc.lang.code() {
		fc.imports()
		fc.calls()
	}
	if hasMarkup(fc.lang, fc.rel) {
		fc.snippets()
	}
	fc.endpoints()
	fc.configKeys()
	fc.csp()
	if strings.HasSuffix(fc.rel, ".tf") || strings.HasSuffix(fc.rel, ".tf.json") {
		fc.terraform()
	}
}

// add records a finding at offset off of the file.
func (fc *fileScan) add(vendor string, kind Kind, off int, detail string, cats []Category) {
	name := ""
	if e, ok := fc.s.Vendors.Catalog.Get(vendor); ok {
		name = e.Name
	} else if strings.HasPrefix(vendor, UnknownPrefix) {
		name = strings.TrimPrefix(vendor, UnknownPrefix)
	}
	line := fc.li.line(off)
	fc.out = append(fc.out, Finding{Vendor: vendor, VendorName: name, Kind: kind, System: fc.system,
		Evidence: Evidence{File: fc.rel, Line: line, Snippet: snippet(fc.li.around(fc.raw, off, 512))},
		Detail:   detail, Categories: cats})
}

// imports binds the names that vendor SDK imports introduce.
func (fc *fileScan) imports() {
	fc.binds = map[string]string{}
	fc.assigned = map[string]string{}
	fc.importLines = map[int]bool{}
	for _, im := range imports(fc.lang, fc.src) {
		fc.importLines[fc.li.line(im.off)] = true
		vendor, ok := fc.s.resolveImport(fc.lang, im.spec)
		if !ok {
			// A relative import of a name another file bound to an SDK
			// object: import { analytics } from "../lib/segment".
			for _, n := range im.names {
				if v, ok := fc.s.exported[n]; ok {
					fc.binds[n] = v
				}
			}
			continue
		}
		for _, n := range im.names {
			fc.binds[n] = vendor
		}
		fc.add(vendor, KindSDKInit, im.off, "import "+im.spec, nil)
	}
	// Assignments from a vendor expression bind the variable too:
	// tracker = Mixpanel::Tracker.new(...), $stripe = new \Stripe\StripeClient(...),
	// val amplitude = Amplitude(...), client := segment.New(...).
	for _, a := range assignments(fc.src) {
		lhs := strings.TrimLeft(a.lhs, "@")
		root := strings.FieldsFunc(a.rhs, func(r rune) bool { return r == '.' || r == ':' || r == '\\' || r == '>' || r == '-' })
		if len(root) == 0 {
			continue
		}
		if v, ok := fc.vendorOf(root); ok {
			fc.binds[lhs] = v
			fc.assigned[lhs] = v
		}
	}
	// Parameters that default to an SDK object: def initialize(tracker: MIXPANEL).
	for _, pd := range paramDefaults(fc.src) {
		if v, ok := fc.vendorOf([]string{pd.constant}); ok {
			fc.binds[pd.name] = v
		}
	}
}

// vendorOf returns the vendor that a chain of identifiers reaches through a
// bound name or a brand name of a vendor the project uses.
func (fc *fileScan) vendorOf(chain []string) (string, bool) {
	for _, id := range chain {
		id = strings.TrimLeft(id, "@")
		if v, ok := fc.binds[id]; ok {
			return v, true
		}
		if v, ok := fc.s.constants[id]; ok {
			return v, true
		}
	}
	for _, id := range chain {
		if v, ok := fc.s.idx.brand(id); ok && fc.s.present[v] {
			return v, true
		}
	}
	if fc.lang == langJS || fc.lang == langHTML || fc.lang == langPHP {
		// Globals that browser snippets define: gtag(…), window.Intercom(…),
		// fbq(…); window.analytics is Segment's.
		if v, ok := browserGlobals[chain[0]]; ok && (len(chain) == 1 || chain[0] != "analytics") {
			return v, true
		}
		if len(chain) >= 2 && chain[0] == "window" {
			if v, ok := browserGlobals[chain[1]]; ok {
				return v, true
			}
		}
	}
	return "", false
}

// browserGlobals are the globals vendor snippets define in the browser.
var browserGlobals = map[string]string{
	"gtag": "google-analytics", "fbq": "meta", "hj": "hotjar", "Intercom": "intercom", "posthog": "posthog",
	"mixpanel": "mixpanel", "amplitude": "amplitude", "FS": "fullstory", "LogRocket": "logrocket",
	"DD_RUM": "datadog", "ttq": "tiktok", "clarity": "microsoft-clarity", "zE": "zendesk", "_hsq": "hubspot",
	"lintrk": "linkedin", "plausible": "plausible", "analytics": "segment", "Sentry": "sentry", "heap": "heap",
}

// calls finds SDK initialisation and calls that send data to a vendor.
func (fc *fileScan) calls() {
	src := fc.src
	budget := max(8*len(src), 1<<20)
	for open := 0; open < len(src); open++ {
		c := src[open]
		if c != '(' && c != '{' {
			continue
		}
		end := skipSpaceBack(src, open)
		if end >= 2 && src[end-2] == '?' && src[end-1] == '.' { // window.Intercom?.(…)
			end -= 2
		}
		// Kotlin and Swift generics: Foo<Bar>(…)
		if end > 0 && src[end-1] == '>' && c == '(' {
			if lt := strings.LastIndexByte(string(src[max(0, end-64):end]), '<'); lt >= 0 {
				end = skipSpaceBack(src, max(0, end-64)+lt)
			}
		}
		cs, ok := chainAt(src, end)
		if !ok || (len(cs.chain) == 1 && keywords[cs.chain[0]]) {
			continue
		}
		vendor, ok := fc.vendorOf(cs.chain)
		if !ok {
			continue
		}
		method := cs.chain[len(cs.chain)-1]
		chain := strings.Join(cs.chain, ".")
		// A call's arguments are read up to 4 KB; once the file's calls
		// have read eight times its size (calls nested in calls read the
		// same bytes again and again), only 256 bytes each.
		limit := 4096
		if budget <= 0 {
			limit = 256
		}
		region := string(src[open:balanced(src, open, limit)])
		budget -= len(region)
		lower := strings.ToLower(method)
		switch {
		case c == '{' && fc.lang == langGo && len(cs.chain) == 2:
			// A struct literal of the SDK: sentry.User{Email: …},
			// stripe.CustomerParams{…}.
			if cats := fc.categories(region, open, chain); len(cats) > 0 {
				fc.add(vendor, KindDataSend, cs.start, chain, cats)
			}
		case c == '{' && fc.lang != langSwift && fc.lang != langJava:
			// A block, not a call.
		case browserGlobals[method] != "" && !strings.Contains(region[:min(len(region), 24)], "init"):
			// gtag('event', …), Intercom('update', {…}), fbq('track', …)
			fc.add(vendor, KindDataSend, cs.start, chain, fc.categories(region, open, chain))
		case cs.isNew || initMethods[lower] || (len(cs.chain) == 1 && isUpper(method)):
			var cats []Category
			if reDefaultPII.MatchString(region) {
				cats = append(cats, Category{Key: "user.device.ip_address", Confidence: 0.8, Element: "send_default_pii"})
			}
			fc.add(vendor, KindSDKInit, cs.start, chain, cats)
		case fc.s.idx.isSend(vendor, strings.Join(cs.chain[max(0, len(cs.chain)-2):], "."), method):
			fc.add(vendor, KindDataSend, cs.start, chain, fc.categories(region, open, chain))
		}
	}
}

func isUpper(s string) bool { return s != "" && 'A' <= s[0] && s[0] <= 'Z' }

// categories classifies the data elements of a call's arguments, following
// bare identifiers to the literal assigned to them earlier in the file.
func (fc *fileScan) categories(region string, at int, chain string) []Category {
	var cats []Category
	cls := fc.s.Classifier
	classify := func(r string) {
		for _, e := range elements(r) {
			if e.id && e.name != "user_id" {
				if userCall(chain) {
					cats = addCategory(cats, Category{Key: "user.unique_id", Confidence: 0.8, Element: e.text})
				}
				continue
			}
			f, ok := cls.FieldName(e.name)
			if !ok || f.Category == "" {
				continue
			}
			conf := f.Confidence
			if !e.strong {
				conf -= 0.1
			}
			cats = addCategory(cats, Category{Key: f.Category, Confidence: round2(conf), Element: e.text})
		}
		for _, m := range reStrValue.FindAllStringSubmatch(r, -1) {
			v := m[1] + m[2]
			for _, f := range cls.Value(v) {
				if f.Category != "" {
					cats = addCategory(cats, Category{Key: f.Category, Confidence: round2(f.Confidence), Element: "literal"})
				}
			}
		}
	}
	classify(region)
	for i, m := range reIdentArg.FindAllStringSubmatch(region, 4) {
		if i >= 3 || keywords[m[1]] {
			continue
		}
		if lit := fc.literalFor(m[1], at); lit != "" {
			classify(lit)
		}
	}
	return cats
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

var (
	reURL      = regexp.MustCompile(`(?i)\b(?:https?:)?//([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)(?::\d{1,5})?(/[^\s"'<>()\x60]*)?`)
	reBareHost = regexp.MustCompile(`(?i)(?:^|[\s=:"',\[])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})\b`)
	reHrefAttr = regexp.MustCompile(`(?i)<(?:a|link)\b[^>]*\bhref\s*=\s*["']?$`)
)

// endpoints finds vendor hostnames and URLs.
func (fc *fileScan) endpoints() {
	seen := map[string]bool{} // vendor + line
	src := fc.src
	emit := func(host string, off int, known bool, url string) {
		vendor, _, ok := fc.s.Vendors.Host(host)
		if !ok || (!known && strings.HasPrefix(vendor, UnknownPrefix)) {
			return
		}
		if fc.importLines[fc.li.line(off)] {
			return
		}
		key := vendor + "\x00" + strconv.Itoa(fc.li.line(off))
		if seen[key] {
			return
		}
		seen[key] = true
		var cats []Category
		if fc.lang.code() {
			cats = fc.urlData(off, url)
		}
		fc.add(vendor, KindEndpoint, off, strings.ToLower(host), cats)
	}
	// URLs are on the lines with "//" (comments are blanked already).
	urls := newExcerpt(src, "//")
	for _, m := range reURL.FindAllSubmatchIndex(urls.text, -1) {
		start, hostStart := urls.orig(m[0]), urls.orig(m[2])
		// Links for people to click (<a href>, <link>) are not data flows.
		if fc.lang == langHTML && reHrefAttr.Match(src[max(0, start-200):start]) {
			continue
		}
		emit(string(src[hostStart:hostStart+m[3]-m[2]]), start, true, string(src[start:start+m[1]-m[0]]))
	}
	// Only catalog hosts: a bare name could be a file or a property path.
	catalogHost := func(start, end int) {
		host := string(src[start:end])
		if v, _, ok := fc.s.Vendors.Host(host); ok && !strings.HasPrefix(v, UnknownPrefix) && !looksLikeFile(host) {
			emit(host, start, false, "")
		}
	}
	if fc.lang == langConfig {
		for _, m := range reBareHost.FindAllSubmatchIndex(src, -1) {
			catalogHost(m[2], m[3])
		}
		return
	}
	for _, h := range quotedHosts(src) {
		catalogHost(h[0], h[1])
	}
}

// looksLikeFile rules out names such as "analytics.js" or "app.py" that
// match a host pattern.
func looksLikeFile(host string) bool {
	switch path.Ext(host) {
	case ".js", ".ts", ".py", ".rb", ".go", ".php", ".json", ".yaml", ".yml", ".html", ".css", ".md", ".txt", ".swift", ".kt", ".java":
		return true
	}
	return false
}

// urlData classifies what code sends to a URL: the query string, the call
// the URL is an argument of, and the keys of literals and struct tags in
// the same function (a heuristic window of lines around it). A URL held in
// a constant is followed to where the constant is used.
func (fc *fileScan) urlData(off int, url string) []Category {
	var cats []Category
	cls := fc.s.Classifier
	if _, q, ok := strings.Cut(url, "?"); ok {
		for _, kv := range strings.Split(q, "&") {
			k, _, _ := strings.Cut(kv, "=")
			if f, ok := cls.FieldName(k); ok && f.Category != "" {
				cats = addCategory(cats, Category{Key: f.Category, Confidence: round2(f.Confidence), Element: "query:" + k})
			}
		}
	}
	windows := []int{off}
	if name := constantName(fc.src, off); name != "" {
		re := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`)
		for _, m := range re.FindAllIndex(fc.src, 8) {
			if m[0] != off && fc.li.line(m[0]) != fc.li.line(off) {
				windows = append(windows, m[0])
			}
		}
	}
	for _, w := range windows {
		line := fc.li.line(w)
		from, to := max(1, line-12), min(len(fc.li), line+8)
		start := fc.li[from-1]
		end := len(fc.src)
		if to < len(fc.li) {
			end = fc.li[to]
		}
		region := string(fc.src[start:end])
		for _, e := range elements(region) {
			if !e.strong {
				continue
			}
			f, ok := cls.FieldName(e.name)
			if !ok || f.Category == "" || f.Confidence < 0.9 {
				continue
			}
			cats = addCategory(cats, Category{Key: f.Category, Confidence: round2(f.Confidence - 0.2), Element: e.text})
		}
	}
	return cats
}

var reConstBefore = regexp.MustCompile(`([A-Za-z_$][\w$]*)\s*(?::=|=|:)\s*(?:["'\x60]|f["']|r["'])?$`)

// constantName returns NAME when the string at off is assigned to it
// (const NAME = "https://…").
func constantName(src []byte, off int) string {
	start := off
	for start > 0 && src[start-1] != '\n' && off-start < 200 {
		start--
	}
	prefix := strings.TrimRight(string(src[start:off]), "\"'`")
	m := reConstBefore.FindStringSubmatch(prefix + `"`)
	if m == nil || keywords[m[1]] {
		return ""
	}
	return m[1]
}
