package gateway

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/weaklink/weaklink/internal/gateway/adapter"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// benchBatch is a Mixpanel browser batch like bench/gateway's: 50 events of
// about 20 properties, as a data= form body (about 39 KB).
func benchBatch() []byte {
	var events []map[string]any
	for i := range 50 {
		events = append(events, map[string]any{"event": "Viewed Usage Page", "properties": map[string]any{
			"token": "acme-dashboard-project-token", "time": 1732540000000 + i, "distinct_id": fmt.Sprintf("user_%d", i%16),
			"$insert_id": fmt.Sprintf("5d958f87-542d-4e37-9e0b-%012d", i), "$device_id": "18f0c2d9a1b2c3d4", "$user_id": fmt.Sprintf("user_%d", i%16),
			"$browser": "Chrome", "$browser_version": 131, "$os": "Mac OS X", "$device": "Mac",
			"$current_url": "https://platform.acme.ai/usage?org=org-7781&tab=tokens", "$referrer": "https://www.google.com/",
			"$referring_domain": "www.google.com", "$screen_width": 1728, "$city": "San Francisco", "$region": "California",
			"mp_country_code": "US", "mp_lib": "web", "$lib_version": "2.55.1", "org_id": "org-7781", "plan": "pay-as-you-go",
			"$email": "ada@example.com", "feature": "usage",
		}})
	}
	b, _ := json.Marshal(events)
	return []byte("data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(b)))
}

// BenchmarkFloorInspect is the least any full-inspection gateway does to one
// batch: unescape the form, decode base64, classify every key and value
// once, encode base64 and escape again. It bounds from below what the policy
// path can cost.
func BenchmarkFloorInspect(b *testing.B) {
	body := benchBatch()
	c := taxonomy.DefaultClassifier()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			b.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(form.Get("data"))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := c.ScanJSON(raw, func(string, taxonomy.Finding) { n++ }); err != nil {
			b.Fatal(err)
		}
		_ = url.QueryEscape(base64.StdEncoding.EncodeToString(raw[:len(raw)/2]))
	}
}

// BenchmarkPolicyPath is what the gateway does today to the same batch:
// Mixpanel decode, the acme-like policy, Mixpanel encode.
func BenchmarkPolicyPath(b *testing.B) {
	body := benchBatch()
	e := NewEngine([]byte("0123456789abcdef0123"))
	p := &Policy{Mode: "allow", ClientIP: ActDrop, Rules: Rules{
		Fields: map[string]Rule{"token": {Action: ActKeep}, "time": {Action: ActKeep}, "$insert_id": {Action: ActKeep},
			"distinct_id": {Action: ActHash}, "mp_country_code": {Action: ActKeep}, "plan": {Action: ActKeep}, "feature": {Action: ActKeep}},
		Categories: map[string]Rule{"user.contact": {Action: ActDrop}, "user.name": {Action: ActDrop}},
	}}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := &adapter.Request{Method: "POST", Path: "/track", Query: url.Values{}, Header: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: body}
		batch, err := adapter.Mixpanel{}.Decode(req)
		if err != nil {
			b.Fatal(err)
		}
		e.Apply(p, batch, "mixpanel")
		if _, err := (adapter.Mixpanel{}).Encode(req, batch); err != nil {
			b.Fatal(err)
		}
	}
}
