package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
)

// A realistic Mixpanel browser-SDK batch: what mixpanel-js sends to /track
// when it flushes its queue. The body is a form, data=<base64 of a JSON
// array>, URL-escaped the way the SDK does it (encodeURIComponent).
//
// One batch comes from one browser, so one user per batch; the benchmark
// rotates through several batches (one user each) so the gateway's ledger
// sees more than one subject. Every event has about 20 properties: the SDK's
// automatic ones ($browser, $os, $current_url, $referrer, ...), geo
// ($city, $region, mp_country_code), super properties (plan, org_id, ...) and
// event properties (feature, model, request_count, ...). Some carry $email.

const eventsPerBatch = 50

var (
	eventNames = []string{"Viewed Usage Page", "Clicked Button", "Ran Query", "Opened Settings", "Viewed Model Card", "Copied API Key", "Changed Plan"}
	pages      = []string{"/usage", "/settings/billing", "/playground", "/models/gpt-x", "/keys", "/org/members"}
	referrers  = []struct{ url, domain string }{
		{"https://www.google.com/", "www.google.com"},
		{"https://news.ycombinator.com/item?id=41872011", "news.ycombinator.com"},
		{"$direct", "$direct"},
		{"https://platform.acme.ai/usage", "platform.acme.ai"},
	}
	browsers = []struct {
		name string
		ver  int
		os   string
	}{{"Chrome", 131, "Mac OS X"}, {"Firefox", 133, "Windows"}, {"Safari", 18, "Mac OS X"}, {"Chrome", 130, "Linux"}}
	cities = []struct{ city, region, cc string }{
		{"San Francisco", "California", "US"}, {"Berlin", "Land Berlin", "DE"}, {"London", "England", "GB"}, {"Toronto", "Ontario", "CA"},
	}
	plans    = []string{"free", "pay-as-you-go", "team", "enterprise"}
	features = []string{"usage-dashboard", "playground", "batch-api", "fine-tuning", "billing"}
	models   = []string{"acme-large", "acme-small", "acme-embed"}
	sections = []string{"header", "sidebar", "main", "footer"}
)

// batch is one user's request body and what it holds.
type batch struct {
	Body      []byte
	JSONBytes int // size of the JSON inside data=
	Props     int // properties over all events
}

// makeBatches builds n batches of eventsPerBatch events, one user each,
// deterministic for a seed.
func makeBatches(n int, seed uint64) ([]batch, error) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	out := make([]batch, 0, n)
	for u := range n {
		events, props := userEvents(rng, u)
		js, err := json.Marshal(events)
		if err != nil {
			return nil, err
		}
		body := "data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(js))
		out = append(out, batch{Body: []byte(body), JSONBytes: len(js), Props: props})
	}
	return out, nil
}

// userEvents is one user's batch of events and the number of properties.
func userEvents(rng *rand.Rand, u int) ([]map[string]any, int) {
	br := browsers[u%len(browsers)]
	geo := cities[u%len(cities)]
	ref := referrers[u%len(referrers)]
	user := fmt.Sprintf("user_%06x", rng.Uint32()&0xffffff)
	org := fmt.Sprintf("org-%04d", rng.IntN(10000))
	device := fmt.Sprintf("%x-%x", rng.Uint64(), rng.Uint32())
	plan := plans[u%len(plans)]
	t0 := int64(1732540000000) + int64(u)*60_000
	events := make([]map[string]any, 0, eventsPerBatch)
	props := 0
	for i := range eventsPerBatch {
		p := map[string]any{
			"token":             "acme-project-token",
			"time":              t0 + int64(i)*1370,
			"distinct_id":       user,
			"$device_id":        device,
			"$insert_id":        insertID(rng),
			"$browser":          br.name,
			"$browser_version":  br.ver,
			"$os":               br.os,
			"$current_url":      "https://platform.acme.ai" + pages[rng.IntN(len(pages))] + "?org=" + org,
			"$referrer":         ref.url,
			"$referring_domain": ref.domain,
			"$screen_width":     1728,
			"$city":             geo.city,
			"$region":           geo.region,
			"mp_country_code":   geo.cc,
			"mp_lib":            "web",
			"$lib_version":      "2.55.1",
			"org_id":            org,
			"plan":              plan,
			"feature":           features[rng.IntN(len(features))],
		}
		switch i % 5 {
		case 0: // identified users: the SDK's people properties leak in
			p["$email"] = user + "@example.com"
		case 1:
			p["model"] = models[rng.IntN(len(models))]
			p["request_count"] = rng.IntN(5000)
		case 2:
			p["page_section"] = sections[rng.IntN(len(sections))]
		}
		props += len(p)
		events = append(events, map[string]any{"event": eventNames[rng.IntN(len(eventNames))], "properties": p})
	}
	return events, props
}

// insertID is like mixpanel-js's: random base36, unique per event.
func insertID(rng *rand.Rand) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 20)
	for i := range b {
		b[i] = digits[rng.IntN(len(digits))]
	}
	return string(b)
}

// decodeForwarded reads a Mixpanel form body the way Mixpanel does, to check
// what the gateway sent upstream.
func decodeForwarded(body []byte) ([]map[string]any, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	d := form.Get("data")
	raw, err := base64.StdEncoding.DecodeString(d)
	if err != nil {
		raw = []byte(d) // plain JSON in data=
	}
	var events []map[string]any
	if err := json.Unmarshal(raw, &events); err != nil {
		return nil, fmt.Errorf("data= is not a JSON array: %w", err)
	}
	return events, nil
}
