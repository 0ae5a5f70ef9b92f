package discover

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/weaklink/weaklink/internal/catalog"
)

// The captures in testdata/har were written with testdata/har/gen.py:
//
//   - chrome-dashboard.har: Chrome, HTTP/2 (pseudo-headers), a page titled
//     with its URL on platform.acme.ai calling its own API (with e-mail
//     addresses that must not be reported), Mixpanel /track (twice) and
//     /engage with base64 data= forms, Segment /v1/batch as text/plain JSON
//     with a batch context, a GA4 gtag hit in the query, an unknown vendor
//     with the e-mail in the query, a data: and a chrome-extension: URL.
//   - firefox-billing.har: Firefox, a page titled "Billing · Acme" (not a
//     URL, so the first party comes from the first request), an Amplitude
//     HTTP V2 body and a gzip JSON body both in base64 postData, a custom
//     header and cookies sent to an ad host, an e-mail in a URL path, a
//     blob: URL.
//   - proxy-server.har: a proxy's HAR 1.1 with a BOM and no pages: a GA4
//     Measurement Protocol call and a Sentry envelope (one JSON a line).

// harCat is an expected category: the key and, when set, the element.
type harCat struct{ key, element string }

type harWant struct {
	vendor  string
	snippet string
	entry   int // index in log.entries of the first request, for the line
	detail  string
	cats    []harCat // present (a subset)
	not     []string // absent keys
}

func scanHARFile(t *testing.T, s *HARScanner, path string) []Finding {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fs, err := s.ScanHAR(filepath.Base(path), f)
	if err != nil {
		t.Fatalf("ScanHAR(%s): %v", path, err)
	}
	return fs
}

// requestLines returns, in order, the lines of a pretty-printed HAR that
// open an entry's "request" object, found independently of the scanner.
func requestLines(t *testing.T, path string) []int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []int
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), `"request": {`) {
			lines = append(lines, n)
		}
	}
	return lines
}

func defaultHARScanner() *HARScanner {
	return &HARScanner{Vendors: &Vendors{Catalog: catalog.Default()}}
}

func TestScanHARCaptures(t *testing.T) {
	// Not reported anywhere: project tokens and write keys (protocol
	// fields), the Authorization and e-mails sent to the first party.
	noCreds := []string{"user.authorization.credentials"}
	tests := []struct {
		file string
		want []harWant
	}{
		{"chrome-dashboard.har", []harWant{
			{vendor: "domain:tinymetrics.io", snippet: "GET https://collect.tinymetrics.io/e", entry: 9, detail: "collect.tinymetrics.io",
				cats: []harCat{{"user.contact.email", "query:email"}}},
			{vendor: "google-analytics", snippet: "POST https://region1.google-analytics.com/g/collect", entry: 8, detail: "region1.google-analytics.com",
				cats: []harCat{
					{"user.contact.email", "query:ep.user_email"},
					{"user.unique_id", "query:uid"},
					{"user.device.device_id", "query:cid"},
					{"user.behavior.browsing_history", ""},
					{"user.demographic.language", "query:ul"},
				}, not: noCreds},
			{vendor: "mixpanel", snippet: "GET https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js", entry: 3, detail: "cdn.mxpnl.com"},
			{vendor: "mixpanel", snippet: "POST https://api-js.mixpanel.com/track/ ×2", entry: 4, detail: "api-js.mixpanel.com",
				cats: []harCat{
					{"user.contact.email", "body:properties.$email"},
					{"user.name", "body:properties.$name"},
					{"user.unique_id", ""}, // distinct_id and $user_id
					{"user.location.imprecise", ""},
					{"user.device.user_agent", ""},
					{"user.device.device_id", "body:properties.$device_id"},
					{"user.behavior.browsing_history", "body:properties.$current_url"},
				}, not: noCreds},
			{vendor: "mixpanel", snippet: "POST https://api-js.mixpanel.com/engage/", entry: 5, detail: "api-js.mixpanel.com",
				cats: []harCat{
					{"user.contact.email", "body:$set.$email"},
					{"user.name", "body:$set.$name"},
					{"user.contact.phone_number", "body:$set.$phone"},
					{"user.unique_id", "body:$distinct_id"},
				}, not: noCreds},
			{vendor: "segment", snippet: "POST https://api.segment.io/v1/batch", entry: 7, detail: "api.segment.io",
				cats: []harCat{
					{"user.contact.email", "body:traits.email"},
					{"user.name", "body:traits.name"},
					{"user.device.ip_address", "body:context.ip"},
					{"user.unique_id", "body:userId"},
					{"user.device.user_agent", "body:context.userAgent"},
				}, not: noCreds},
		}},
		{"firefox-billing.har", []harWant{
			{vendor: "amplitude", snippet: "POST https://api2.amplitude.com/2/httpapi", entry: 1, detail: "api2.amplitude.com",
				cats: []harCat{
					{"user.contact.email", "body:user_properties.$set.email"},
					{"user.name", "body:user_properties.$set.full_name"},
					{"user.unique_id", "body:user_id"},
					{"user.device.device_id", "body:device_id"},
					{"user.device.ip_address", "body:ip"}, // "$remote": the request's address
					{"user.location.imprecise", "body:city"},
				}, not: noCreds},
			{vendor: "domain:pulseboard.dev", snippet: "POST https://events.pulseboard.dev/v1/ingest", entry: 2, detail: "events.pulseboard.dev",
				cats: []harCat{
					{"user.contact.email", "body:events[].user.email"},
					{"user.contact.phone_number", "body:events[].user.phone"},
				}},
			{vendor: "domain:tinyads.net", snippet: "GET https://pixel.tinyads.net/sync", entry: 3, detail: "pixel.tinyads.net",
				cats: []harCat{
					{"user.contact.email", "header:X-User-Email"},
					{"user.unique_id", "cookie:ajs_user_id"},
				}},
			// the e-mail in the path is reported, and kept out of the snippet
			{vendor: "domain:tinymetrics.io", snippet: "GET https://api.tinymetrics.io/v1/users/{email}/profile", entry: 4, detail: "api.tinymetrics.io",
				cats: []harCat{{"user.contact.email", "url:path"}}},
		}},
		{"proxy-server.har", []harWant{
			{vendor: "google-analytics", snippet: "POST https://www.google-analytics.com/mp/collect", entry: 1, detail: "www.google-analytics.com",
				cats: []harCat{
					{"user.contact.email", "body:params.customer_email"},
					{"user.unique_id", "body:user_id"},
					{"user.device.device_id", "body:client_id"},
					{"user.account.settings", "body:user_properties.plan"},
				},
				// the event's "name" (purchase) is not a person's name
				not: []string{"user.name", "user.authorization.credentials"}},
			{vendor: "sentry", snippet: "POST https://o4504.ingest.sentry.io/api/4504/envelope/", entry: 2, detail: "o4504.ingest.sentry.io",
				cats: []harCat{
					{"user.contact.email", "body:user.email"},
					{"user.device.ip_address", "body:user.ip_address"},
					{"user.unique_id", "body:user.id"},
				}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "har", tt.file)
			got := scanHARFile(t, defaultHARScanner(), path)
			lines := requestLines(t, path)
			var gotIDs, wantIDs []string
			for _, f := range got {
				gotIDs = append(gotIDs, f.Vendor+" "+f.Evidence.Snippet)
			}
			for _, w := range tt.want {
				wantIDs = append(wantIDs, w.vendor+" "+w.snippet)
			}
			if !slices.Equal(gotIDs, wantIDs) {
				t.Fatalf("findings:\n got %q\nwant %q", gotIDs, wantIDs)
			}
			for i, w := range tt.want {
				f := got[i]
				if f.Kind != KindTraffic || f.Detail != w.detail || f.Evidence.File != tt.file {
					t.Errorf("%s: kind %q detail %q file %q", wantIDs[i], f.Kind, f.Detail, f.Evidence.File)
				}
				if f.Evidence.Line != lines[w.entry] {
					t.Errorf("%s: line %d, want %d (entry %d)", wantIDs[i], f.Evidence.Line, lines[w.entry], w.entry)
				}
				if !slices.IsSortedFunc(f.Categories, func(a, b Category) int { return strings.Compare(a.Key, b.Key) }) {
					t.Errorf("%s: categories not sorted: %v", wantIDs[i], f.Categories)
				}
				byKey := map[string]Category{}
				for _, c := range f.Categories {
					byKey[c.Key] = c
					if c.Confidence <= 0 || c.Confidence > 1 || c.Element == "" {
						t.Errorf("%s: bad category %+v", wantIDs[i], c)
					}
				}
				for _, c := range w.cats {
					g, ok := byKey[c.key]
					switch {
					case !ok:
						t.Errorf("%s: no %s in %v", wantIDs[i], c.key, f.Categories)
					case c.element != "" && g.Element != c.element:
						t.Errorf("%s: %s seen at %q, want %q", wantIDs[i], c.key, g.Element, c.element)
					}
				}
				for _, k := range w.not {
					if c, ok := byKey[k]; ok {
						t.Errorf("%s: unexpected %+v", wantIDs[i], c)
					}
				}
				if w.cats == nil && len(f.Categories) > 0 {
					t.Errorf("%s: unexpected categories %v", wantIDs[i], f.Categories)
				}
			}
		})
	}
}

func TestScanHARVendorNames(t *testing.T) {
	got := scanHARFile(t, defaultHARScanner(), "testdata/har/chrome-dashboard.har")
	names := map[string]string{}
	for _, f := range got {
		names[f.Vendor] = f.VendorName
	}
	want := map[string]string{
		"mixpanel": "Mixpanel", "segment": "Segment", "google-analytics": "Google Analytics",
		"domain:tinymetrics.io": "tinymetrics.io",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("vendor names %v, want %v", names, want)
	}
}

// The first party comes from the caller when it names one; otherwise from
// the capture, without touching the caller's Vendors.
func TestScanHARFirstParty(t *testing.T) {
	path := "testdata/har/chrome-dashboard.har"
	v := &Vendors{Catalog: catalog.Default()}
	s := &HARScanner{Vendors: v}
	scanHARFile(t, s, path)
	if len(v.FirstParty) != 0 {
		t.Errorf("ScanHAR changed the caller's first party: %v", v.FirstParty)
	}

	// A caller that says tinymetrics.io is theirs, and not acme.ai: the
	// dashboard's own API is now a vendor.
	s = &HARScanner{Vendors: &Vendors{Catalog: catalog.Default(), FirstParty: []string{"tinymetrics.io"}}}
	got := scanHARFile(t, s, path)
	var acme []string
	for _, f := range got {
		if f.Vendor == "domain:tinymetrics.io" {
			t.Errorf("first-party host reported: %+v", f)
		}
		if f.Vendor == "domain:acme.ai" {
			acme = append(acme, f.Evidence.Snippet)
		}
	}
	want := []string{
		"GET https://platform.acme.ai/api/me", "GET https://platform.acme.ai/api/reports",
		"GET https://platform.acme.ai/dashboard", "POST https://platform.acme.ai/api/preferences",
	}
	slices.Sort(acme)
	if !slices.Equal(acme, want) {
		t.Errorf("acme.ai requests %q, want %q", acme, want)
	}
}

// Page titles that are URLs win over the first request; with no page and
// a first request to a vendor, that vendor's domain is taken as the site.
func TestScanHARFirstPartyInference(t *testing.T) {
	const har = `{"log": {"version": "1.2", "pages": [{"id": "p", "title": %s}], "entries": [
	  {"request": {"method": "GET", "url": "https://collect.tinymetrics.io/e?email=ada%%40example.com"}},
	  {"request": {"method": "GET", "url": "https://www.shop.example.co.uk/checkout?email=ada%%40example.com"}}]}}`
	vendorsOf := func(title string) []string {
		fs, err := (&HARScanner{}).ScanHAR("t.har", strings.NewReader(fmt.Sprintf(har, title)))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range fs {
			ids = append(ids, f.Vendor)
		}
		return ids
	}
	if got := vendorsOf(`"https://shop.example.co.uk/"`); !slices.Equal(got, []string{"domain:tinymetrics.io"}) {
		t.Errorf("page URL title: vendors %q", got)
	}
	// "Checkout" is no URL: the first request (tinymetrics.io) is taken
	// as the page, and the shop becomes the third party.
	if got := vendorsOf(`"Checkout"`); !slices.Equal(got, []string{"domain:example.co.uk"}) {
		t.Errorf("plain title: vendors %q", got)
	}
}

func TestScanHARSkips(t *testing.T) {
	const har = `{"log": {"entries": [
	  {"request": {"method": "GET", "url": "https://app.acme.ai/"}},
	  {"request": {"method": "GET", "url": "data:text/plain,ada@example.com"}},
	  {"request": {"method": "GET", "url": "blob:https://collect.tinymetrics.io/1b2c"}},
	  {"request": {"method": "GET", "url": "chrome-extension://abcdef/x.js?email=ada@example.com"}},
	  {"request": {"method": "GET", "url": "moz-extension://abcdef/x.js"}},
	  {"request": {"method": "GET", "url": "about:blank"}},
	  {"request": {"method": "GET", "url": "https://203.0.113.7/collect?email=ada@example.com"}},
	  {"request": {"method": "GET", "url": "http://localhost:3000/collect?email=ada@example.com"}},
	  {"request": {"method": "GET", "url": "https://cdn.acme.ai/app.js?email=ada@example.com"}},
	  {"request": {"method": "GET", "url": "https://schema.org/Person"}},
	  {"request": {"method": "OPTIONS", "url": "https://collect.tinymetrics.io/e?email=ada@example.com",
	    "headers": [{"name": "access-control-request-method", "value": "POST"}]}}
	]}}`
	fs, err := (&HARScanner{}).ScanHAR("skips.har", strings.NewReader(har))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("want no findings, got %+v", fs)
	}
}

// Request headers every browser sends are not categories: a User-Agent
// or a Referer carrying the page's query is not data the page chose to
// send. HTTP/2 pseudo-headers repeat the URL. Custom ones are classified.
func TestScanHARHeaders(t *testing.T) {
	const har = `{"log": {"entries": [
	  {"request": {"method": "GET", "url": "https://acme.ai/"}},
	  {"request": {"method": "POST", "url": "https://collect.tinymetrics.io/e", "headers": [
	    {"name": ":path", "value": "/e?email=ada@example.com"},
	    {"name": "User-Agent", "value": "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0"},
	    {"name": "Referer", "value": "https://acme.ai/?email=ada@example.com"},
	    {"name": "Origin", "value": "https://acme.ai"},
	    {"name": "Accept-Language", "value": "en-GB"},
	    {"name": "sec-ch-ua-platform", "value": "\"Linux\""},
	    {"name": "Content-Type", "value": "text/plain"},
	    {"name": "X-Visitor-Phone", "value": "+44 20 7946 0958"},
	    {"name": "X-Empty-Email", "value": ""}
	  ]}}
	]}}`
	fs, err := (&HARScanner{}).ScanHAR("h.har", strings.NewReader(har))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 {
		t.Fatalf("want one finding, got %+v", fs)
	}
	want := []Category{{Key: "user.contact.phone_number", Confidence: 0.9, Element: "header:X-Visitor-Phone"}}
	if !reflect.DeepEqual(fs[0].Categories, want) {
		t.Errorf("categories %+v, want %+v", fs[0].Categories, want)
	}
}

// Cookies sent to a vendor: names by name, values by value; when the HAR
// has no cookies list, the Cookie header is read.
func TestScanHARCookies(t *testing.T) {
	const har = `{"log": {"entries": [
	  {"request": {"method": "GET", "url": "https://acme.ai/"}},
	  {"request": {"method": "GET", "url": "https://px.tinyads.net/a", "cookies": [
	    {"name": "mp_mixpanel_cookie", "value": "%7B%22distinct_id%22%3A%22u1%22%7D"},
	    {"name": "tid", "value": "ada%40example.com"}]}},
	  {"request": {"method": "GET", "url": "https://px.tinyads.net/b", "headers": [
	    {"name": "Cookie", "value": "ajs_anonymous_id=5d1c2b8e; theme=dark"}]}}
	]}}`
	fs, err := (&HARScanner{}).ScanHAR("c.har", strings.NewReader(har))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("want two findings, got %+v", fs)
	}
	want := [][]Category{
		{
			{Key: "user.contact.email", Confidence: 0.95, Element: "cookie:tid"},
			{Key: "user.device.cookie_id", Confidence: 0.9, Element: "cookie:mp_mixpanel_cookie"},
		},
		{{Key: "user.device.cookie_id", Confidence: 0.9, Element: "cookie:ajs_anonymous_id"}},
	}
	for i := range fs {
		if !reflect.DeepEqual(fs[i].Categories, want[i]) {
			t.Errorf("%s: categories %+v, want %+v", fs[i].Evidence.Snippet, fs[i].Categories, want[i])
		}
	}
}

// Bodies by media type: forms (with data= holding JSON or base64 JSON),
// JSON, text/plain JSON, NDJSON, plain text, Firefox's base64 and gzip.
func TestScanHARBodies(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"user": {"email": "ada@example.com"}}`))
	zw.Close()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, postData string
		want           []Category
	}{
		{"form", `{"mimeType": "application/x-www-form-urlencoded; charset=UTF-8", "text": "first_name=Ada&note=call+me+on+%2B44+20+7946+0958"}`, []Category{
			{Key: "user.contact.phone_number", Confidence: 0.9, Element: "body:note"},
			{Key: "user.name.first", Confidence: 0.9, Element: "body:first_name"},
		}},
		{"form params only", `{"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "email", "value": "ada@example.com"}]}`, []Category{
			{Key: "user.contact.email", Confidence: 0.95, Element: "body:email"},
		}},
		{"form data= base64 JSON", `{"mimeType": "application/x-www-form-urlencoded", "text": "data=` + b64(`[{"properties": {"$email": "ada@example.com"}}]`) + `"}`, []Category{
			{Key: "user.contact.email", Confidence: 0.95, Element: "body:data.properties.$email"},
		}},
		{"json", `{"mimeType": "application/json", "text": "{\"traits\": {\"email\": \"ada@example.com\"}}"}`, []Category{
			{Key: "user.contact.email", Confidence: 0.95, Element: "body:traits.email"},
		}},
		{"text/plain json", `{"mimeType": "text/plain;charset=UTF-8", "text": "[{\"ip\": \"203.0.113.7\"}]"}`, []Category{
			{Key: "user.device.ip_address", Confidence: 0.9, Element: "body:ip"},
		}},
		{"ndjson", `{"mimeType": "application/x-ndjson", "text": "{\"a\": 1}\n{\"user\": {\"ip_address\": \"203.0.113.7\"}}\n"}`, []Category{
			{Key: "user.device.ip_address", Confidence: 0.9, Element: "body:user.ip_address"},
		}},
		{"plain text", `{"mimeType": "text/plain", "text": "contact ada@example.com today"}`, []Category{
			{Key: "user.contact.email", Confidence: 0.95, Element: "body"},
		}},
		{"binary is not searched", `{"mimeType": "application/octet-stream", "text": "ada@example.com"}`, nil},
		{"base64", `{"mimeType": "application/json", "encoding": "base64", "text": "` + b64(`{"email": "ada@example.com"}`) + `"}`, []Category{
			{Key: "user.contact.email", Confidence: 0.95, Element: "body:email"},
		}},
		{"base64 gzip", `{"mimeType": "application/json", "encoding": "base64", "text": "` + base64.StdEncoding.EncodeToString(gz.Bytes()) + `"}`, []Category{
			{Key: "user.contact.email", Confidence: 0.95, Element: "body:user.email"},
		}},
		{"broken json", `{"mimeType": "application/json", "text": "{\"email\": \"ada@example.com\", oops"}`, []Category{
			{Key: "user.contact.email", Confidence: 0.95, Element: "body:email"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			har := `{"log": {"entries": [{"request": {"method": "GET", "url": "https://acme.ai/"}},
			  {"request": {"method": "POST", "url": "https://in.tinymetrics.io/e", "postData": ` + tt.postData + `}}]}}`
			fs, err := (&HARScanner{}).ScanHAR("b.har", strings.NewReader(har))
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 {
				t.Fatalf("want one finding, got %+v", fs)
			}
			if !reflect.DeepEqual(fs[0].Categories, tt.want) {
				t.Errorf("categories %+v, want %+v", fs[0].Categories, tt.want)
			}
		})
	}
}

// A vendor body its adapter cannot decode is read generically.
func TestScanHARAdapterFallback(t *testing.T) {
	const har = `{"log": {"entries": [{"request": {"method": "GET", "url": "https://acme.ai/"}},
	  {"request": {"method": "POST", "url": "https://api-js.mixpanel.com/track/?email=ada%40example.com",
	    "postData": {"mimeType": "application/x-www-form-urlencoded", "text": "data=%%%&phone=%2B44+20+7946+0958"}}},
	  {"request": {"method": "GET", "url": "https://api-js.mixpanel.com/decide/?verbose=1&distinct_id=user_8a7f3c"}}
	]}}`
	fs, err := (&HARScanner{}).ScanHAR("f.har", strings.NewReader(har))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Category{
		// not a data endpoint: the query is read as it is
		"GET https://api-js.mixpanel.com/decide/": {{Key: "user.unique_id", Confidence: 0.9, Element: "query:distinct_id"}},
		// data=%%% does not decode
		"POST https://api-js.mixpanel.com/track/": {
			{Key: "user.contact.email", Confidence: 0.95, Element: "query:email"},
			{Key: "user.contact.phone_number", Confidence: 0.9, Element: "body:phone"},
		},
	}
	if len(fs) != len(want) {
		t.Fatalf("findings %+v", fs)
	}
	for _, f := range fs {
		if !reflect.DeepEqual(f.Categories, want[f.Evidence.Snippet]) {
			t.Errorf("%s: categories %+v, want %+v", f.Evidence.Snippet, f.Categories, want[f.Evidence.Snippet])
		}
	}
}

// MaxEntryBody bounds what is read of a body.
func TestScanHARMaxEntryBody(t *testing.T) {
	pad := strings.Repeat("x", 100)
	har := `{"log": {"entries": [{"request": {"method": "GET", "url": "https://acme.ai/"}},
	  {"request": {"method": "POST", "url": "https://in.tinymetrics.io/e",
	    "postData": {"mimeType": "text/plain", "text": "+44 20 7946 0958 ` + pad + ` ada@example.com"}}}]}}`
	for _, tt := range []struct {
		max  int
		want []string
	}{
		{0, []string{"user.contact.email", "user.contact.phone_number"}},
		{64, []string{"user.contact.phone_number"}},
	} {
		fs, err := (&HARScanner{MaxEntryBody: tt.max}).ScanHAR("m.har", strings.NewReader(har))
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, c := range fs[0].Categories {
			keys = append(keys, c.Key)
		}
		if !slices.Equal(keys, tt.want) {
			t.Errorf("MaxEntryBody %d: categories %q, want %q", tt.max, keys, tt.want)
		}
	}
}

func TestScanHARErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "capture.har: empty file, want a HAR capture (JSON)"},
		{"not JSON", "GET / HTTP/1.1\n", "capture.har:1:1: not JSON: invalid character 'G' looking for beginning of value"},
		{"bad JSON", "{\n  \"log\": {\n    \"entries\": [\n      {\"request\": {}},,\n    ]\n  }\n}\n",
			"capture.har:4:23: not JSON: invalid character ',' looking for beginning of value"},
		{"truncated", "{\"log\": {\"entries\": [\n", "capture.har:2:1: not JSON: unexpected end of JSON input"},
		{"array", "[]", `capture.har:1:1: not a HAR capture: the file is an array, want an object with a "log"`},
		{"no log", `{"har": {}}`, "capture.har: log.entries is missing"},
		{"no entries", `{"log": {"version": "1.2", "pages": []}}`, "capture.har: log.entries is missing"},
		{"entries null", `{"log": {"entries": null}}`, "capture.har:1:21: log.entries is null, want an array"},
		{"entry not object", `{"log": {"entries": [{"request": {"url": "https://a.io/"}}, 7]}}`, "capture.har:1:61: log.entries[1] is a number, want an object"},
		{"no request", `{"log": {"entries": [{"response": {}}]}}`, "capture.har:1:22: log.entries[0].request is missing"},
		{"no url", "{\"log\": {\"entries\": [\n {\"request\": {\"method\": \"GET\"}}]}}", "capture.har:2:14: log.entries[0].request.url is missing"},
		{"bad url", "{\"log\": {\"entries\": [\n" + strings.Repeat(" {\"request\": {\"url\": \"https://a.io/\"}},\n", 3) +
			" {\"request\": {\"method\": \"GET\",\n   \"url\": \"https://exa mple.com/\"}}]}}",
			`capture.har:6:11: log.entries[3].request.url: cannot parse "https://exa mple.com/": invalid character " " in host name`},
		{"relative url", `{"log": {"entries": [{"request": {"url": "/api/me"}}]}}`, `capture.har:1:42: log.entries[0].request.url: "/api/me" is not an absolute URL`},
		{"url without host", `{"log": {"entries": [{"request": {"url": "https:///x"}}]}}`, `capture.har:1:42: log.entries[0].request.url: "https:///x" has no host`},
		{"url type", `{"log": {"entries": [{"request": {"url": 42}}]}}`, "capture.har:1:42: log.entries[0].request.url is a number, want a string"},
		{"header type", `{"log": {"entries": [{"request": {"url": "https://a.io/", "headers": [{"name": "a", "value": "b"}, {"name": "c", "value": true}]}}]}}`,
			"capture.har:1:123: log.entries[0].request.headers[1].value is a boolean, want a string"},
		{"version", `{"log": {"version": "2.0", "entries": []}}`, `capture.har:1:21: log.version is "2.0", want 1.1 or 1.2`},
		{"pages", `{"log": {"pages": {}, "entries": []}}`, "capture.har:1:19: log.pages is an object, want an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := (&HARScanner{}).ScanHAR("capture.har", strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("no error; findings %+v", fs)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

// Accepted: HAR 1.1, no version, extra fields, escaped keys, a BOM, and
// everything on one line.
func TestScanHARLenient(t *testing.T) {
	for _, in := range []string{
		`{"log": {"version": "1.1", "entries": [{"request": {"url": "https://a.io/"}}]}}`,
		`{"log": {"entries": [{"_x": {"request": 1}, "request": {"url": "https://a.io/", "_y": [1]}}], "_z": null}, "_w": 1}`,
		`{"l\u006fg": {"entries": [{"req\u0075est": {"\u0075rl": "https://a.io/"}}]}}`,
		"\xef\xbb\xbf{\"log\": {\"entries\": []}}",
		`{"log": {"entries": [], "pages": null}}`,
	} {
		if _, err := (&HARScanner{}).ScanHAR("ok.har", strings.NewReader(in)); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}

// The result does not depend on how the capture is read, and repeats.
func TestScanHARDeterministic(t *testing.T) {
	path := "testdata/har/chrome-dashboard.har"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := scanHARFile(t, defaultHARScanner(), path)
	for i := 0; i < 5; i++ {
		got, err := defaultHARScanner().ScanHAR("chrome-dashboard.har", iotest.HalfReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d differs:\n got %+v\nwant %+v", i, got, want)
		}
	}
	// Minified: the same findings, all on line 1.
	var min bytes.Buffer
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		min.Write(bytes.TrimSpace(line))
	}
	got, err := defaultHARScanner().ScanHAR("chrome-dashboard.har", &min)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{}
	for _, f := range want {
		lines[f.Evidence.Snippet] = f.Evidence.Line
	}
	for i := range got {
		if got[i].Evidence.Line != 1 {
			t.Errorf("minified: line %d", got[i].Evidence.Line)
		}
		got[i].Evidence.Line = lines[got[i].Evidence.Snippet]
	}
	SortFindings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("minified differs:\n got %+v\nwant %+v", got, want)
	}
}
