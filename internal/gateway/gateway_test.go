package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/gateway/fakevendor"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/postgres"
	"github.com/weaklink/weaklink/internal/store/postgres/pgtest"
	"github.com/weaklink/weaklink/internal/store/sqlite"
)

const hashKey = "test-hash-key-0123456789abcdef"

// fakeVendor is an ingestion API on 127.0.0.1 that records what it gets.
type fakeVendor struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	status   int // answer with this status (default 200)
}

type received struct {
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte // the raw body as sent
	Events []map[string]any
}

func newFakeVendor(t *testing.T) *fakeVendor {
	f := &fakeVendor{status: http.StatusOK}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		status := f.status
		f.mu.Unlock()
		if status != http.StatusOK {
			w.WriteHeader(status)
			return
		}
		rec := received{Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, Events: decodeMixpanel(t, body)}
		f.mu.Lock()
		f.requests = append(f.requests, rec)
		f.mu.Unlock()
		_, _ = w.Write([]byte("1"))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeVendor) setStatus(s int) { f.mu.Lock(); f.status = s; f.mu.Unlock() }

func (f *fakeVendor) got() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// decodeMixpanel reads a Mixpanel body the way Mixpanel does: form data=
// base64 JSON, or JSON; nil for a body that is neither (on_parse_error: pass
// forwards bodies as they came).
func decodeMixpanel(_ *testing.T, body []byte) []map[string]any {
	v, ok := fakevendor.DecodeBody(body)
	if !ok {
		return nil
	}
	var out []map[string]any
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
	case map[string]any:
		out = append(out, x)
	}
	return out
}

type env struct {
	svc    *service.Service
	vendor *fakeVendor
	gw     *gateway.Gateway
	url    string
	config string
	cancel context.CancelFunc
	done   chan error
}

func openStore(t *testing.T, backend string) *service.Service {
	t.Helper()
	var s store.Store
	var err error
	if backend == "postgres" {
		s, err = postgres.Open(context.Background(), pgtest.URL(t), nil)
	} else {
		s, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	svc := service.New(s)
	doc, err := inventory.LoadPaths("../../examples/acme")
	if err != nil {
		t.Fatal(err)
	}
	plan, base, err := svc.Plan(context.Background(), doc, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ApplyPlan(context.Background(), base, plan); err != nil {
		t.Fatal(err)
	}
	return svc
}

// writeConfig writes the acme gateway configuration with the fake vendor as
// upstream and a spool in dir; edit may change it further.
func writeConfig(t *testing.T, dir, upstream string, edit func(string) string) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/acme/gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "https://api-js.mixpanel.com", upstream, 1)
	s = strings.Replace(s, "dir: ./var/spool", "dir: "+filepath.Join(dir, "spool"), 1)
	if edit != nil {
		s = edit(s)
	}
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func lookupEnv(k string) (string, bool) {
	if k == "WEAKLINK_HASH_KEY" {
		return hashKey, true
	}
	return "", false
}

func start(t *testing.T, svc *service.Service, vendor *fakeVendor, config string, tweaks ...func(*gateway.Options)) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts := gateway.Options{
		ConfigPath: config, Service: svc, LookupEnv: lookupEnv, AllowPrivateUpstreams: true,
		GatePoll: 200 * time.Millisecond, ReloadPoll: 100 * time.Millisecond, ObservedEvery: time.Hour,
	}
	for _, tw := range tweaks {
		tw(&opts)
	}
	g, err := gateway.New(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	e := &env{svc: svc, vendor: vendor, gw: g, url: srv.URL, config: config, cancel: cancel, done: make(chan error, 1)}
	go func() { e.done <- g.Run(ctx) }()
	t.Cleanup(func() { e.stop(); srv.Close() })
	return e
}

func (e *env) stop() {
	if e.cancel != nil {
		e.cancel()
		<-e.done
		e.cancel = nil
	}
}

func setup(t *testing.T, backend string, edit func(string) string) *env {
	svc := openStore(t, backend)
	vendor := newFakeVendor(t)
	return start(t, svc, vendor, writeConfig(t, t.TempDir(), vendor.URL, edit))
}

func eachBackend(t *testing.T, fn func(t *testing.T, backend string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite") })
	t.Run("postgres", func(t *testing.T) { fn(t, "postgres") })
}

// The dashboard's Mixpanel traffic: a browser SDK batch (base64 form) and a
// profile update with a name, an email and a city.
func dashboardTrack(insertID string) string {
	events := []map[string]any{{
		"event": "Viewed Usage Page",
		"properties": map[string]any{
			"token": "acme-project-token", "time": 1732540000123, "distinct_id": "user_8f2a", "$insert_id": insertID,
			"$device_id": "18f0c2d9a1", "$user_id": "user_8f2a", "$browser": "Chrome", "$browser_version": 131,
			"$os": "Mac OS X", "$device": "Mac", "$current_url": "https://platform.acme.ai/usage?org=org-7781",
			"$referrer": "https://www.google.com/", "$referring_domain": "www.google.com", "$screen_width": 1728,
			"$city": "San Francisco", "$region": "California", "mp_country_code": "US", "mp_lib": "web",
			"$lib_version": "2.55.1", "org_id": "org-7781", "plan": "pay-as-you-go", "feature": "usage-dashboard",
			"$email": "ada@example.com", "utm_source": "newsletter",
			"note": "contact me at ada@example.com please",
		},
	}}
	b, _ := json.Marshal(events)
	return "data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(b))
}

const dashboardEngage = `[{"$token":"acme-project-token","$distinct_id":"user_8f2a","$ip":"203.0.113.7",
 "$set":{"$email":"ada@example.com","$name":"Ada Lovelace","$first_name":"Ada","$city":"San Francisco",
 "mp_country_code":"US","plan":"pay-as-you-go","company":"Analytical Engines"}}]`

func post(t *testing.T, u, path, contentType, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh) Chrome/131.0")
	req.Header.Set("Cookie", "session=secret")
	req.Header.Set("Referer", "https://platform.acme.ai/usage")
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestMixpanelScenario(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		e := setup(t, backend, nil)
		resp := post(t, e.url, "/mp/track?ip=1&_=1732540000", "application/x-www-form-urlencoded", dashboardTrack("ins-1"))
		if body, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(body) != "1" {
			t.Fatalf("track: %d %q", resp.StatusCode, body)
		}
		resp = post(t, e.url, "/mp/engage?ip=1", "application/json", dashboardEngage)
		if resp.StatusCode != 200 {
			t.Fatalf("engage: %d", resp.StatusCode)
		}
		got := e.vendor.got()
		if len(got) != 2 {
			t.Fatalf("vendor received %d requests, want 2", len(got))
		}
		wantID := gateway.NewEngine([]byte(hashKey)).Hash("user_8f2a")
		track := got[0]
		if track.Path != "/track" || track.Query.Get("ip") != "0" {
			t.Errorf("track path %s query %v: want /track with ip=0", track.Path, track.Query)
		}
		for _, h := range []string{"X-Forwarded-For", "Cookie", "Referer"} {
			if v := track.Header.Get(h); v != "" {
				t.Errorf("header %s forwarded: %q", h, v)
			}
		}
		if ua := track.Header.Get("User-Agent"); strings.Contains(ua, "Chrome") {
			t.Errorf("browser user agent forwarded: %q", ua)
		}
		if !strings.HasPrefix(string(track.Body), "data=") {
			t.Errorf("track body is not in the SDK's form+base64 format: %.60s", track.Body)
		}
		props := track.Events[0]["properties"].(map[string]any)
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range props {
				if !yield(k) {
					return
				}
			}
		})
		want := []string{"$insert_id", "$lib_version", "distinct_id", "feature", "mp_country_code", "mp_lib", "plan", "time", "token"}
		if !slices.Equal(keys, want) {
			t.Errorf("Mixpanel received properties %v\nwant exactly %v", keys, want)
		}
		if props["distinct_id"] != wantID || props["token"] != "acme-project-token" || props["mp_country_code"] != "US" || track.Events[0]["event"] != "Viewed Usage Page" {
			t.Errorf("event = %v", track.Events[0])
		}
		engage := got[1].Events[0]
		set, _ := engage["$set"].(map[string]any)
		if engage["$distinct_id"] != wantID || engage["$ip"] != nil || engage["$token"] != "acme-project-token" {
			t.Errorf("engage envelope = %v", engage)
		}
		if len(set) != 2 || set["plan"] != "pay-as-you-go" || set["mp_country_code"] != "US" {
			t.Errorf("engage $set = %v, want only plan and mp_country_code", set)
		}
		for _, r := range got {
			for _, secret := range []string{"ada@example.com", "Ada", "Lovelace", "San Francisco", "user_8f2a", "203.0.113.7", "Chrome", "google"} {
				if bytes.Contains(r.Body, []byte(secret)) || bytes.Contains(r.Body, []byte(base64.StdEncoding.EncodeToString([]byte(secret)))) {
					t.Errorf("%s reached the vendor in %s", secret, r.Path)
				}
				for _, ev := range r.Events {
					if b, _ := json.Marshal(ev); bytes.Contains(b, []byte(secret)) {
						t.Errorf("%s reached the vendor in %s: %s", secret, r.Path, b)
					}
				}
			}
		}
		// The ledger: which categories reached Mixpanel, for how many subjects.
		if err := e.gw.FlushNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		sum, err := e.svc.Store.LedgerSummary(context.Background(), "mixpanel")
		if err != nil {
			t.Fatal(err)
		}
		var cats []string
		for _, c := range sum.Categories {
			cats = append(cats, c.Category)
			if c.Subjects != 1 {
				t.Errorf("category %s: %d subjects, want 1", c.Category, c.Subjects)
			}
		}
		if sum.Subjects != 1 || !slices.Contains(cats, "user.unique_id.pseudonymous") || !slices.Contains(cats, "user.location.imprecise") {
			t.Errorf("ledger: %d subjects, categories %v", sum.Subjects, cats)
		}
		for _, c := range cats {
			// The project token is protocol, not a person's credentials.
			if strings.HasPrefix(c, "user.contact.email") || c == "user.name" || c == "user.unique_id" || strings.HasPrefix(c, "user.authorization") {
				t.Errorf("ledger says %s reached Mixpanel", c)
			}
		}
		var dropped bool
		for _, a := range sum.Actions {
			if a.Action == "dropped" && a.Category == "user.contact.email" && a.Count >= 2 {
				dropped = true
			}
		}
		if !dropped {
			t.Errorf("ledger actions do not count the dropped emails: %+v", sum.Actions)
		}
		// The inventory now has an observed flow with what really went.
		f, err := e.svc.Store.GetFlow(context.Background(), "platform-dashboard.mixpanel.observed")
		if err != nil {
			t.Fatal(err)
		}
		if f.Source != inventory.SourceObserved || !slices.Contains(f.Categories, "user.unique_id.pseudonymous") || slices.Contains(f.Categories, "user.contact.email") {
			t.Errorf("observed flow = %+v", f)
		}
	})
}

// TestKillSwitch measures the block with the production poll interval.
func TestKillSwitch(t *testing.T) {
	svc := openStore(t, "sqlite")
	vendor := newFakeVendor(t)
	e := start(t, svc, vendor, writeConfig(t, t.TempDir(), vendor.URL, nil), func(o *gateway.Options) { o.GatePoll = 0 })
	if resp := post(t, e.url, "/mp/track", "application/x-www-form-urlencoded", dashboardTrack("k-1")); resp.StatusCode != 200 {
		t.Fatalf("before block: %d", resp.StatusCode)
	}
	blockedAt := time.Now()
	if err := e.svc.Store.BlockVendor(context.Background(), store.Block{Vendor: "mixpanel", Reason: "vendor breach", BlockedAt: blockedAt}); err != nil {
		t.Fatal(err)
	}
	var latency time.Duration
	for {
		resp := post(t, e.url, "/mp/track", "application/x-www-form-urlencoded", dashboardTrack("k-2"))
		if resp.StatusCode == http.StatusForbidden {
			latency = time.Since(blockedAt)
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), `vendor \"mixpanel\" is blocked`) || strings.Contains(string(body), "vendor breach") {
				t.Errorf("blocked response must say the vendor is blocked, without the operator's reason: %s", body)
			}
			break
		}
		if time.Since(blockedAt) > 2*time.Second {
			t.Fatalf("still forwarding %v after the block", time.Since(blockedAt))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("block took effect after %v", latency)
	n := len(e.vendor.got())
	for range 5 {
		post(t, e.url, "/mp/track", "application/x-www-form-urlencoded", dashboardTrack("k-3"))
	}
	if len(e.vendor.got()) != n {
		t.Fatal("blocked traffic reached the vendor")
	}
	if err := e.svc.Store.UnblockVendor(context.Background(), "mixpanel"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for post(t, e.url, "/mp/track", "application/x-www-form-urlencoded", dashboardTrack("k-4")).StatusCode != 200 {
		if time.Now().After(deadline) {
			t.Fatal("still blocked 2 s after unblock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	metrics := get(t, e, "/metrics")
	if !strings.Contains(metrics, `weaklink_gateway_requests_total{outcome="blocked",vendor="mixpanel"}`) {
		t.Error("blocked requests are not counted in /metrics")
	}
}

func get(t *testing.T, e *env, path string) string {
	t.Helper()
	srv := httptest.NewServer(e.gw.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestUnapprovedAndUnknownVendorsAreBlocked(t *testing.T) {
	svc := openStore(t, "sqlite")
	vendor := newFakeVendor(t)
	config := writeConfig(t, t.TempDir(), vendor.URL, func(s string) string {
		s = strings.Replace(s, "routes:\n", `routes:
  - prefix: /oa/
    vendor: openai
    system: platform-dashboard
    adapter: mixpanel
    upstream: `+vendor.URL+`
    policy: dashboard-mixpanel
  - prefix: /ghost/
    vendor: ghost-analytics
    system: platform-dashboard
    adapter: mixpanel
    upstream: `+vendor.URL+`
    policy: dashboard-mixpanel
`, 1)
		return s
	})
	e := start(t, svc, vendor, config)
	for path, want := range map[string]string{"/oa/track": "is proposed, not approved", "/ghost/track": "not in the inventory"} {
		resp := post(t, e.url, path, "application/x-www-form-urlencoded", dashboardTrack("u-1"))
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	if len(vendor.got()) != 0 {
		t.Fatal("traffic to an unapproved or unknown vendor was forwarded")
	}
}

func TestNotAnOpenProxyAndLimits(t *testing.T) {
	e := setup(t, "sqlite", func(s string) string {
		return strings.Replace(s, "max_body_bytes: 5242880", "max_body_bytes: 4096", 1)
	})
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/elsewhere/", 404},
		{"POST", "/mp/../../etc/passwd", 404},
		{"POST", "/mp/admin/delete-project", 404},
		{"GET", "/mp/track", 400}, // a data endpoint without data
	} {
		req, _ := http.NewRequest(c.method, e.url+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}
	big := "data=" + strings.Repeat("A", 8192)
	if resp := post(t, e.url, "/mp/track", "application/x-www-form-urlencoded", big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", resp.StatusCode)
	}
	if len(e.vendor.got()) != 0 {
		t.Error("something reached the vendor")
	}
}

func TestParseErrorSetting(t *testing.T) {
	for _, mode := range []string{"block", "pass"} {
		t.Run(mode, func(t *testing.T) {
			e := setup(t, "sqlite", func(s string) string {
				return strings.Replace(s, "on_parse_error: block", "on_parse_error: "+mode, 1)
			})
			resp := post(t, e.url, "/mp/track", "application/x-www-form-urlencoded", "data=%%%not-base64")
			body, _ := io.ReadAll(resp.Body)
			n := 0
			for _, r := range e.vendor.requests {
				if strings.Contains(string(r.Body), "not-base64") {
					n++
				}
			}
			if mode == "block" && (resp.StatusCode != 400 || n != 0 || !strings.Contains(string(body), "on_parse_error: block")) {
				t.Errorf("block: %d %s, forwarded %d", resp.StatusCode, body, n)
			}
			if mode == "pass" && n != 1 {
				t.Errorf("pass: forwarded %d times", n)
			}
		})
	}
}

func TestConfigReload(t *testing.T) {
	e := setup(t, "sqlite", nil)
	good, _ := os.ReadFile(e.config)
	// A broken file is rejected and the old configuration keeps serving.
	if err := os.WriteFile(e.config, []byte(strings.Replace(string(good), "mode: allow", "mode: allowed", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.gw.Reload(); err == nil || !strings.Contains(err.Error(), `mode "allowed" is not allow or deny`) {
		t.Fatalf("reload of a bad config: %v", err)
	}
	if resp := post(t, e.url, "/mp/track", "application/x-www-form-urlencoded", dashboardTrack("r-1")); resp.StatusCode != 200 {
		t.Fatalf("after a rejected reload: %d", resp.StatusCode)
	}
	// A good change is picked up from the file without a restart: drop plan.
	if err := os.WriteFile(e.config, []byte(strings.Replace(string(good), "plan: keep", "plan: drop", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		post(t, e.url, "/mp/track", "application/x-www-form-urlencoded", dashboardTrack("r-2"))
		got := e.vendor.got()
		props := got[len(got)-1].Events[0]["properties"].(map[string]any)
		if _, ok := props["plan"]; !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the changed configuration was not picked up")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSpoolAcrossRestart: the vendor is down, the gateway accepts and spools;
// it restarts; the vendor comes back; everything arrives once, in order.
func TestSpoolAcrossRestart(t *testing.T) {
	svc := openStore(t, "sqlite")
	vendor := newFakeVendor(t)
	dir := t.TempDir()
	config := writeConfig(t, dir, vendor.URL, nil)
	vendor.setStatus(http.StatusServiceUnavailable)
	e := start(t, svc, vendor, config)
	const n = 20
	for i := range n {
		resp := post(t, e.url, "/mp/track", "application/x-www-form-urlencoded", dashboardTrack(fmt.Sprintf("spool-%02d", i)))
		if resp.StatusCode != 200 {
			t.Fatalf("request %d while the vendor is down: %d", i, resp.StatusCode)
		}
	}
	e.stop() // the gateway goes away with its backlog on disk
	vendor.setStatus(http.StatusOK)
	start(t, svc, vendor, config) // a new process, the same spool
	deadline := time.Now().Add(10 * time.Second)
	for len(vendor.got()) < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything extra would arrive now
	got := vendor.got()
	if len(got) != n {
		t.Fatalf("vendor received %d requests, want %d", len(got), n)
	}
	for i, r := range got {
		id := r.Events[0]["properties"].(map[string]any)["$insert_id"]
		if want := fmt.Sprintf("spool-%02d", i); id != want {
			t.Errorf("request %d carried %v, want %s (order or duplicates)", i, id, want)
		}
	}
}
