package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/gateway/fakevendor"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

// edgeEnv is a real server (newRemoteEnv) and a fake Mixpanel on
// 127.0.0.1, with acme's gateway configuration pointed at it.
type edgeEnv struct {
	*remoteEnv
	cfg      string
	mu       sync.Mutex
	received []string // the bodies the vendor got, decoded
	gwToken  string
	viewTok  string
}

func newEdgeEnv(t *testing.T, db string) *edgeEnv {
	t.Helper()
	e := &edgeEnv{remoteEnv: newRemoteEnv(t, db)}
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msgs, _ := fakevendor.DecodeBody(body)
		js, _ := json.Marshal(msgs)
		e.mu.Lock()
		e.received = append(e.received, string(js))
		e.mu.Unlock()
		_, _ = w.Write([]byte("1"))
	}))
	t.Cleanup(vendor.Close)
	dir := t.TempDir()
	b, err := os.ReadFile(acmeGateway)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer("https://api-js.mixpanel.com", vendor.URL, "dir: ./var/spool", "dir: "+filepath.Join(dir, "spool")).Replace(string(b))
	e.cfg = filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	tok := func(role string) string {
		var tw service.TokenWithSecret
		if err := json.Unmarshal([]byte(ok(t, db, "tokens", "create", "--user", "ada", "--name", role, "--role", role, "--format", "json")), &tw); err != nil {
			t.Fatal(err)
		}
		return tw.Secret
	}
	e.gwToken, e.viewTok = tok("gateway"), tok("viewer")
	return e
}

// startGateway runs `weaklink --server URL gateway` as its own process
// (TestHelperGatewayProcess) with token in $WEAKLINK_TOKEN, and returns
// its address and a function that stops it (SIGTERM: it flushes) and
// returns what it logged.
func (e *edgeEnv) startGateway(t *testing.T, token string) (addr string, stop func() string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGatewayProcess$")
	cmd.Env = append(os.Environ(), "WEAKLINK_HASH_KEY=edge-test-key-0123456789", "WEAKLINK_TOKEN="+token, "WEAKLINK_DB=", "WEAKLINK_SERVER=",
		"WEAKLINK_HELPER_ARGS="+strings.Join([]string{"--server", e.url, "gateway", "--config", e.cfg, "--listen", addr, "--allow-private-upstreams"}, "\x1f"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	stop = func() string {
		if !done {
			done = true
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
		return logs.String()
	}
	t.Cleanup(func() { stop() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return addr, stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway process did not start: %s", stop())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// track sends one Mixpanel event about user with an e-mail address
// through the gateway at addr, and returns the status.
func track(t *testing.T, addr, user, id string) int {
	t.Helper()
	events, _ := json.Marshal([]map[string]any{{"event": "Viewed Usage Page", "properties": map[string]any{
		"token": "t", "distinct_id": user, "$insert_id": id, "$email": user + "@example.com"}}})
	body := "data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(events))
	resp, err := http.Post("http://"+addr+"/mp/track", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus sends traffic until the gateway answers want (within 5 s)
// and returns how long that took.
func waitStatus(t *testing.T, addr string, want int) time.Duration {
	t.Helper()
	start := time.Now()
	for i := 0; ; i++ {
		if got := track(t, addr, "user_wait", fmt.Sprintf("wait-%d", i)); got == want {
			return time.Since(start)
		} else if time.Since(start) > 5*time.Second {
			t.Fatalf("the gateway still answers %d after 5 s, want %d", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// api calls the server's API with token.
func (e *edgeEnv) api(t *testing.T, token, method, path, body string) (int, web.ErrorInfo) {
	t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var er web.ErrorResponse
	_ = json.NewDecoder(resp.Body).Decode(&er)
	return resp.StatusCode, er.Error
}

// TestGatewayRemote: an edge gateway with only a gateway-role token (no
// database) forwards traffic with the policy applied, its ledger and
// observed flows land in the server's database, a block on the server
// stops it within about a second, and with a token of another role it
// fails closed.
func TestGatewayRemote(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEdgeEnv(t, db)
		ctx := context.Background()
		before, err := e.store.LedgerSummary(ctx, "mixpanel")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now().UTC().Truncate(time.Second)

		addr, stop := e.startGateway(t, e.gwToken)
		waitStatus(t, addr, http.StatusOK)
		for i := range 3 {
			if got := track(t, addr, fmt.Sprintf("edge_%d", i), fmt.Sprintf("edge-%d", i)); got != http.StatusOK {
				t.Fatalf("track %d: %d", i, got)
			}
		}
		e.mu.Lock()
		for _, b := range e.received {
			if strings.Contains(b, "@example.com") {
				t.Errorf("the vendor received an e-mail address the policy removes: %s", b)
			}
		}
		if len(e.received) == 0 {
			t.Error("the vendor received nothing")
		}
		e.mu.Unlock()

		// The kill switch, on the server.
		if r := e.remote("vendors", "block", "mixpanel", "--reason", "edge test"); r.code != 0 {
			t.Fatalf("block: %+v", r)
		}
		if d := waitStatus(t, addr, http.StatusForbidden); d > 2500*time.Millisecond {
			t.Errorf("the block took %v to reach the gateway", d)
		}
		if r := e.remote("vendors", "unblock", "mixpanel"); r.code != 0 {
			t.Fatalf("unblock: %+v", r)
		}
		waitStatus(t, addr, http.StatusOK)

		logs := stop() // SIGTERM: the ledger and the observed flows are flushed
		for _, secret := range []string{e.gwToken, e.token} {
			if strings.Contains(logs, secret) {
				t.Fatal("a token reached the gateway's log")
			}
		}
		after, err := e.store.LedgerSummary(ctx, "mixpanel")
		if err != nil {
			t.Fatal(err)
		}
		// edge_0..2 and user_wait are new subjects.
		if after.Subjects != before.Subjects+4 {
			t.Errorf("ledger subjects: %d before, %d after, want 4 more (gateway log:\n%s)", before.Subjects, after.Subjects, logs)
		}
		blocked := false
		for _, a := range after.Actions {
			blocked = blocked || a.Action == "blocked" && a.Category == "blocked" && a.Count > 0
		}
		if !blocked {
			t.Errorf("the blocked requests were not counted: %+v", after.Actions)
		}
		flows, err := e.store.ListFlows(ctx, store.FlowFilter{Vendor: "mixpanel", Source: "observed"})
		if err != nil {
			t.Fatal(err)
		}
		observed := false
		for _, f := range flows {
			observed = observed || strings.HasSuffix(f.ID, ".mixpanel.observed") && f.LastSeen != nil && !f.LastSeen.Before(start)
		}
		if !observed {
			t.Errorf("no observed flow written through the API: %+v (gateway log:\n%s)", flows, logs)
		}

		// A viewer's token may not use the gateway routes: the gateway
		// fails closed.
		addr, stop = e.startGateway(t, e.viewTok)
		for range 3 {
			if got := track(t, addr, "user_v", "v"); got != http.StatusForbidden {
				t.Errorf("with a viewer token the gateway answered %d, want 403", got)
			}
			time.Sleep(300 * time.Millisecond)
		}
		if logs := stop(); !strings.Contains(logs, "your role may not do this") || strings.Contains(logs, e.viewTok) {
			t.Errorf("the gateway's log with a viewer token: %s", logs)
		}
	})
}

// TestGatewayAPIRefusals: who may call the gateway routes, and bad ledger
// bodies get field errors and change nothing.
func TestGatewayAPIRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEdgeEnv(t, db)
		ctx := context.Background()
		for _, c := range []struct {
			token, method, path, body string
			want                      int
		}{
			{e.viewTok, "GET", "/api/v1/gateway/gates?vendor=mixpanel", "", 403},
			{e.viewTok, "POST", "/api/v1/gateway/ledger", "{}", 403},
			{e.viewTok, "POST", "/api/v1/gateway/observed", "{}", 403},
			{e.gwToken, "GET", "/api/v1/vendors", "", 403},
			{e.gwToken, "GET", "/api/v1/ledger/mixpanel", "", 403},
			{e.gwToken, "GET", "/api/v1/gateway/gates?vendor=mixpanel&vendor=segment", "", 200},
			{e.gwToken, "GET", "/api/v1/gateway/gates", "", 400},
			{e.gwToken, "GET", "/api/v1/gateway/gates?vendor=" + strings.Repeat("&vendor=x", 1001), "", 400},
			{e.gwToken, "POST", "/api/v1/gateway/ledger", `{"entries":[],"actions":[]}`, 204},
		} {
			if got, info := e.api(t, c.token, c.method, c.path, c.body); got != c.want {
				t.Errorf("%s %.80s: %d %+v, want %d", c.method, c.path, got, info, c.want)
			}
		}
		before, err := e.store.LedgerSummary(ctx, "mixpanel")
		if err != nil {
			t.Fatal(err)
		}
		at := `"first_seen":"2026-01-01T00:00:00Z","last_seen":"2026-01-02T00:00:00Z"`
		good := `{"vendor":"mixpanel","subject":"s1","category":"user.contact.email",` + at + `,"messages":1}`
		for _, c := range []struct{ body, field string }{
			{`{"entries":[` + good + `,{"vendor":"","subject":"s2","category":"user.contact.email",` + at + `,"messages":1}]}`, "entries[1].vendor"},
			{`{"entries":[` + good + `,{"vendor":"mixpanel","subject":"","category":"user.contact.email",` + at + `,"messages":1}]}`, "entries[1].subject"},
			{`{"entries":[` + good + `,{"vendor":"mixpanel","subject":"s2","category":"user.nope",` + at + `,"messages":1}]}`, "entries[1].category"},
			{`{"entries":[` + good + `,{"vendor":"mixpanel","subject":"s2","category":"user.name",` + at + `,"messages":-1}]}`, "entries[1].messages"},
			{`{"entries":[` + good + `,{"vendor":"mixpanel","subject":"s2","category":"user.name","messages":1}]}`, "entries[1].first_seen"},
			{`{"entries":[` + good + `],"actions":[{"vendor":"mixpanel","action":"hashed","category":"user.name","count":-3}]}`, "actions[0].count"},
			{`{"entries":[` + good + `],"actions":[{"vendor":"mixpanel","action":"","category":"user.name","count":3}]}`, "actions[0].action"},
			{`{"entries":[` + good + `],"extra":1}`, "extra"},
		} {
			got, info := e.api(t, e.gwToken, "POST", "/api/v1/gateway/ledger", c.body)
			if got != 400 || info.Field != c.field {
				t.Errorf("%s: %d %+v, want 400 on %s", c.body, got, info, c.field)
			}
		}
		if got, info := e.api(t, e.gwToken, "POST", "/api/v1/gateway/observed",
			`{"flows":[{"system":"web","vendor":"mixpanel","route":"/mp/","purpose":"analytics","categories":["user.nope"],`+at+`}]}`); got != 400 || info.Field != "flows[0].categories[0]" {
			t.Errorf("observed with an unknown category: %d %+v", got, info)
		}
		after, err := e.store.LedgerSummary(ctx, "mixpanel")
		if err != nil {
			t.Fatal(err)
		}
		if a, b := fmt.Sprintf("%+v", before), fmt.Sprintf("%+v", after); a != b {
			t.Errorf("a refused ledger body changed the ledger:\n%s\n%s", a, b)
		}
	})
}

// TestGatewayRemoteLedgerRetry: a flush the server does not take stays
// pending and is written, once, at the next flush; a flush split in
// several requests that fails part way keeps only what was not written.
func TestGatewayRemoteLedgerRetry(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEdgeEnv(t, db)
		ctx := context.Background()
		// The real server behind a switch: ledger writes fail while down,
		// or from the failAt-th on.
		target, _ := url.Parse(e.url)
		var down atomic.Bool
		var writes, failAt atomic.Int64
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/gateway/ledger" {
				n := writes.Add(1)
				if down.Load() || failAt.Load() > 0 && n >= failAt.Load() {
					http.Error(w, "down", http.StatusServiceUnavailable)
					return
				}
			}
			r2, _ := http.NewRequestWithContext(r.Context(), r.Method, target.String()+r.URL.RequestURI(), r.Body)
			r2.Header = r.Header.Clone()
			resp, err := http.DefaultTransport.RoundTrip(r2)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
		}))
		defer proxy.Close()
		rc, err := newRemote(proxy.URL, e.gwToken, false)
		if err != nil {
			t.Fatal(err)
		}
		prev := gatewayLedgerChunk
		gatewayLedgerChunk = 2000 // a few entries per request
		defer func() { gatewayLedgerChunk = prev }()
		g, err := gateway.New(ctx, gateway.Options{ConfigPath: e.cfg, Backend: gatewayRemote{rc}, AllowPrivateUpstreams: true,
			LookupEnv: func(k string) (string, bool) { return testHashKey, k == "WEAKLINK_HASH_KEY" }})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(g)
		defer srv.Close()
		addr := strings.TrimPrefix(srv.URL, "http://")
		const users = 40
		for i := range users {
			if got := track(t, addr, fmt.Sprintf("retry_%02d", i), fmt.Sprintf("r-%d", i)); got != 200 {
				t.Fatalf("track: %d", got)
			}
		}
		pending := g.Ledger().Pending()
		down.Store(true)
		if err := g.Ledger().Flush(ctx); err == nil || g.Ledger().Pending() != pending {
			t.Fatalf("flush while the server is down: %v, %d pending of %d", err, g.Ledger().Pending(), pending)
		}
		down.Store(false)
		writes.Store(0)
		failAt.Store(3) // the first two requests get through
		if err := g.Ledger().Flush(ctx); err == nil {
			t.Fatal("the split flush did not fail part way")
		}
		if left := g.Ledger().Pending(); left == 0 || left >= pending {
			t.Fatalf("after a partial flush %d of %d pending", left, pending)
		}
		failAt.Store(0)
		if err := g.Ledger().Flush(ctx); err != nil || g.Ledger().Pending() != 0 {
			t.Fatalf("flush: %v, %d pending", err, g.Ledger().Pending())
		}
		sum, err := e.store.LedgerSummary(ctx, "mixpanel")
		if err != nil {
			t.Fatal(err)
		}
		// Each new subject sent one message: written once, none twice.
		var msgs int64
		for _, c := range sum.Categories {
			msgs += c.Messages
		}
		want := int64(pending) // one message per entry
		for i := range 5 {     // newRemoteEnv's ledger: user_i sent i+1 messages in 2 categories
			want += 2 * int64(i+1)
		}
		if msgs != want {
			t.Errorf("ledger messages: %d, want %d (each entry once)", msgs, want)
		}
	})
}
