package gateway_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store/sqlite"
)

// jsonVendor records the JSON bodies it receives (gunzipped when needed).
type jsonVendor struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	gzip   []bool
	paths  []string
}

func newJSONVendor(t *testing.T) *jsonVendor {
	v := &jsonVendor{}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rd io.Reader = r.Body
		gz := r.Header.Get("Content-Encoding") == "gzip"
		if gz {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Errorf("vendor got a bad gzip body: %v", err)
				return
			}
			rd = zr
		}
		var body map[string]any
		if err := json.NewDecoder(rd).Decode(&body); err != nil {
			t.Errorf("vendor got a body that is not a JSON object: %v", err)
		}
		v.mu.Lock()
		v.bodies, v.gzip, v.paths = append(v.bodies, body), append(v.gzip, gz), append(v.paths, r.URL.Path+"?"+r.URL.RawQuery)
		v.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success":true}`))
	}))
	t.Cleanup(v.Close)
	return v
}

const vendorsInventory = `
vendors:
  - {id: segment, catalog: segment, status: active}
  - {id: amplitude, catalog: amplitude, status: active}
  - {id: google-analytics, catalog: google-analytics, status: active}
systems:
  - {id: web, name: Web app}
`

func vendorsConfig(seg, amp, ga string) string {
	return `kind: gateway
hash_key: {env: WEAKLINK_HASH_KEY}
routes:
  - {prefix: /seg/, vendor: segment, system: web, adapter: segment, upstream: "` + seg + `", policy: strict}
  - {prefix: /amp/, vendor: amplitude, system: web, adapter: amplitude, upstream: "` + amp + `", policy: strict}
  - {prefix: /ga/, vendor: google-analytics, system: web, adapter: ga4, upstream: "` + ga + `", policy: strict}
policies:
  strict:
    mode: deny
    client_ip: drop
    fields:
      userId: hash
      user_id: hash
      anonymousId: hash
      device_id: hash
      client_id: hash
      ip: drop
      city: {action: generalize, to: country}
    categories:
      user.contact: drop
      user.name: drop
      user.device.ip_address: drop
      user.location.precise: drop
`
}

func TestSegmentAmplitudeGA4(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := service.New(s)
	doc, err := inventory.Decode(strings.NewReader(vendorsInventory), "inv.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plan, base, err := svc.Plan(ctx, doc, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ApplyPlan(ctx, base, plan); err != nil {
		t.Fatal(err)
	}
	seg, amp, ga := newJSONVendor(t), newJSONVendor(t), newJSONVendor(t)
	cfg := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(cfg, []byte(vendorsConfig(seg.URL, amp.URL, ga.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(ctx, gateway.Options{ConfigPath: cfg, Service: svc, LookupEnv: lookupEnv, AllowPrivateUpstreams: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	defer srv.Close()
	hash := gateway.NewEngine([]byte(hashKey)).Hash

	// Segment: a gzipped batch with nested traits and a batch-level context.
	segBody := `{"batch":[
	  {"type":"identify","userId":"u_42","messageId":"m-1","traits":{"email":"ada@example.com","name":"Ada Lovelace","plan":"pro",
	    "address":{"street":"12 Main Street","city":"London","country":"GB"},"company":{"name":"Engines Ltd","employees":12}}},
	  {"type":"track","userId":"u_42","messageId":"m-2","event":"Ran Query","properties":{"rows":120,"query_ms":38,"notify":"ada@example.com"}}],
	 "context":{"ip":"203.0.113.7","userAgent":"Mozilla/5.0 Chrome/131","locale":"en-GB","page":{"url":"https://app.example.com/q"}},
	 "writeKey":"wk_live_abc"}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(segBody))
	zw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/seg/v1/batch", &gz)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.SetBasicAuth("wk_live_abc", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("segment: %v %v", err, resp)
	}
	resp.Body.Close()
	if len(seg.bodies) != 1 || !seg.gzip[0] {
		t.Fatalf("segment upstream got %d bodies (gzip %v): the wire format must be kept", len(seg.bodies), seg.gzip)
	}
	out, _ := json.Marshal(seg.bodies[0])
	// traits.address is user.contact.address: user.contact: drop takes it whole.
	for _, gone := range []string{"ada@example.com", "Ada Lovelace", "12 Main Street", "203.0.113.7", "u_42", "London", `"address"`, "Engines Ltd"} {
		if bytes.Contains(out, []byte(gone)) {
			t.Errorf("segment received %q: %s", gone, out)
		}
	}
	for _, kept := range []string{`"plan":"pro"`, `"rows":120`, `"event":"Ran Query"`, `"writeKey":"wk_live_abc"`, `"userId":"` + hash("u_42") + `"`, `"ip":"0.0.0.0"`} {
		if !bytes.Contains(out, []byte(kept)) {
			t.Errorf("segment did not receive %s: %s", kept, out)
		}
	}

	// Amplitude HTTP API v2.
	ampBody := `{"api_key":"amp-key","events":[{"user_id":"u_42","device_id":"d-9","event_type":"Sign Up","insert_id":"i-1",
	  "event_properties":{"plan":"pro","referral_email":"bob@example.com"},"user_properties":{"email":"ada@example.com","$set":{"name":"Ada"}},
	  "ip":"203.0.113.7","city":"London","country":"United Kingdom","location_lat":51.5074,"location_lng":-0.1278,"os_name":"Chrome"}]}`
	resp = postJSON(t, srv.URL+"/amp/2/httpapi", ampBody)
	if resp.StatusCode != 200 || len(amp.bodies) != 1 {
		t.Fatalf("amplitude: %d, %d bodies", resp.StatusCode, len(amp.bodies))
	}
	ev := amp.bodies[0]["events"].([]any)[0].(map[string]any)
	if ev["user_id"] != hash("u_42") || ev["device_id"] != hash("d-9") || ev["insert_id"] != "i-1" || ev["country"] != "United Kingdom" {
		t.Errorf("amplitude event = %v", ev)
	}
	for _, gone := range []string{"ip", "city", "location_lat", "location_lng"} {
		if _, ok := ev[gone]; ok {
			t.Errorf("amplitude received %s", gone)
		}
	}
	if b, _ := json.Marshal(ev); bytes.Contains(b, []byte("@example.com")) || bytes.Contains(b, []byte(`"Ada"`)) {
		t.Errorf("amplitude received contact data: %s", b)
	}
	if amp.bodies[0]["api_key"] != "amp-key" {
		t.Error("amplitude api_key was not kept")
	}

	// GA4 Measurement Protocol.
	gaBody := `{"client_id":"123.456","user_id":"u_42","user_properties":{"plan":{"value":"pro"}},"ip_override":"203.0.113.7",
	  "user_data":{"sha256_email_address":["aa11"]},"events":[{"name":"sign_up","params":{"method":"google","engagement_time_msec":100}}]}`
	resp = postJSON(t, srv.URL+"/ga/mp/collect?measurement_id=G-TEST&api_secret=s3cr3t", gaBody)
	if resp.StatusCode/100 != 2 || len(ga.bodies) != 1 {
		t.Fatalf("ga4: %d, %d bodies", resp.StatusCode, len(ga.bodies))
	}
	gab := ga.bodies[0]
	if gab["user_id"] != hash("u_42") || gab["client_id"] != hash("123.456") || gab["ip_override"] != nil {
		t.Errorf("ga4 body = %v", gab)
	}
	if ud, ok := gab["user_data"].(map[string]any); ok && ud["sha256_email_address"] != nil {
		t.Errorf("ga4 received a hashed email (still personal data): %v", ud)
	}
	if !strings.Contains(ga.paths[0], "measurement_id=G-TEST") {
		t.Errorf("ga4 query lost: %s", ga.paths[0])
	}
	if up := gab["user_properties"].(map[string]any)["plan"].(map[string]any); up["value"] != "pro" {
		t.Errorf("ga4 user_properties = %v", gab["user_properties"])
	}

	// The ledger saw all three.
	if err := g.Ledger().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"segment", "amplitude", "google-analytics"} {
		sum, err := s.LedgerSummary(ctx, v)
		if err != nil || sum.Subjects != 1 {
			t.Errorf("ledger for %s: %+v %v", v, sum, err)
		}
	}
}

func postJSON(t *testing.T, u, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
