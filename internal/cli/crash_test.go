package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/weaklink/weaklink/internal/gateway/fakevendor"
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
	"syscall"
	"testing"
	"time"
)

// TestHelperGatewayProcess is not a test: TestGatewayCrash runs the test
// binary again with this one selected to get a real gateway process.
func TestHelperGatewayProcess(t *testing.T) {
	args := os.Getenv("WEAKLINK_HELPER_ARGS")
	if args == "" {
		t.Skip("runs only as TestGatewayCrash's child process")
	}
	os.Exit(Main(strings.Split(args, "\x1f"), os.Stdin, os.Stdout, os.Stderr))
}

// TestGatewayCrash: the vendor is down, the gateway spools; the gateway
// process is killed with SIGKILL (no shutdown); a new process starts on the
// same spool, the vendor returns, and every accepted message arrives, in
// order, none lost, none but the last batch repeated (which the vendor's
// $insert_id absorbs).
func TestGatewayCrash(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "w.db")
	ok(t, db, "apply", "-f", acme)

	var mu sync.Mutex
	var ids []string
	down := true
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		msgs, _ := fakevendor.DecodeBody(body)
		for _, m := range msgs.([]any) {
			ids = append(ids, m.(map[string]any)["properties"].(map[string]any)["$insert_id"].(string))
		}
		_, _ = w.Write([]byte("1"))
	}))
	defer vendor.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	b, _ := os.ReadFile(acmeGateway)
	cfg := strings.NewReplacer("https://api-js.mixpanel.com", vendor.URL, "dir: ./var/spool", "dir: "+filepath.Join(dir, "spool")).Replace(string(b))
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	startGateway := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGatewayProcess$")
		cmd.Env = append(os.Environ(), "WEAKLINK_HASH_KEY=crash-test-key-0123456789",
			"WEAKLINK_HELPER_ARGS="+strings.Join([]string{"--db", db, "gateway", "--config", cfgPath, "--listen", addr, "--allow-private-upstreams"}, "\x1f"))
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
				resp.Body.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the gateway process did not start")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	first := startGateway()
	const n = 30
	for i := range n {
		events, _ := json.Marshal([]map[string]any{{"event": "Viewed Usage Page", "properties": map[string]any{
			"token": "t", "distinct_id": "user_1", "$insert_id": fmt.Sprintf("crash-%02d", i), "$email": "ada@example.com"}}})
		body := "data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(events))
		resp, err := http.Post("http://"+addr+"/mp/track", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	mu.Lock()
	down = false
	mu.Unlock()
	second := startGateway()
	defer func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		_ = second.Wait()
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		got := len(ids)
		mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]bool{}
	next := 0
	for _, id := range ids {
		if !seen[id] {
			if want := fmt.Sprintf("crash-%02d", next); id != want {
				t.Fatalf("delivery out of order: got %s, want %s (all: %v)", id, want, ids)
			}
			next++
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Fatalf("%d of %d messages arrived after the crash: %v", len(seen), n, ids)
	}
	if dup := len(ids) - n; dup > 0 {
		t.Logf("%d duplicates (at-least-once; $insert_id dedups them)", dup)
	}
	t.Logf("all %d spooled messages arrived after SIGKILL and restart", n)
}

// TestGatewaySignals: SIGHUP reloads a changed configuration in a running
// process; SIGTERM shuts it down gracefully, flushing the ledger first.
func TestGatewaySignals(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "w.db")
	ok(t, db, "apply", "-f", acme)
	var mu sync.Mutex
	var last map[string]any
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msgs, _ := fakevendor.DecodeBody(body)
		mu.Lock()
		last = msgs.([]any)[0].(map[string]any)["properties"].(map[string]any)
		mu.Unlock()
		_, _ = w.Write([]byte("1"))
	}))
	defer vendor.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	b, _ := os.ReadFile(acmeGateway)
	// A long flush interval: only the shutdown can write the ledger.
	cfg := strings.NewReplacer("https://api-js.mixpanel.com", vendor.URL, "dir: ./var/spool", "dir: "+filepath.Join(dir, "spool"),
		"flush_interval: 2s", "flush_interval: 1h").Replace(string(b))
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGatewayProcess$")
	cmd.Env = append(os.Environ(), "WEAKLINK_HASH_KEY=signal-test-key-0123456789",
		"WEAKLINK_HELPER_ARGS="+strings.Join([]string{"--db", db, "gateway", "--config", cfgPath, "--listen", addr, "--allow-private-upstreams"}, "\x1f"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for i := 0; ; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatal("the gateway process did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	send := func() map[string]any {
		events, _ := json.Marshal([]map[string]any{{"event": "E", "properties": map[string]any{"token": "t", "distinct_id": "user_9", "plan": "pro", "$insert_id": "s"}}})
		resp, err := http.Post("http://"+addr+"/mp/track", "application/x-www-form-urlencoded",
			strings.NewReader("data="+url.QueryEscape(base64.StdEncoding.EncodeToString(events))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		mu.Lock()
		defer mu.Unlock()
		return last
	}
	if p := send(); p["plan"] != "pro" {
		t.Fatalf("before reload: %v", p)
	}
	// Change the file's modification time only a little: the poller may not
	// notice, SIGHUP must.
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(cfg, "plan: keep", "plan: drop", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, kept := send()["plan"]; !kept {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reload the configuration")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the gateway did not exit cleanly on SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the gateway did not stop within 15 s of SIGTERM")
	}
	var sum struct{ Subjects int }
	if err := json.Unmarshal([]byte(ok(t, db, "ledger", "--vendor", "mixpanel", "--format", "json")), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Subjects != 1 {
		t.Fatalf("ledger after SIGTERM has %d subjects, want 1: the shutdown did not flush it", sum.Subjects)
	}
}

// TestGatewayAdminListener: with --admin-listen, /metrics is served there
// and not on the public listener.
func TestGatewayAdminListener(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "w.db")
	ok(t, db, "apply", "-f", acme)
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	public, admin := free(), free()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGatewayProcess$")
	cmd.Env = append(os.Environ(), "WEAKLINK_HASH_KEY=admin-test-key-0123456789",
		"WEAKLINK_HELPER_ARGS="+strings.Join([]string{"--db", db, "gateway", "--config", acmeGateway, "--listen", public, "--admin-listen", admin}, "\x1f"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	status := func(u string) int {
		resp, err := http.Get(u)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := 0; status("http://"+admin+"/healthz") != 200; i++ {
		if i > 200 {
			t.Fatal("the admin listener did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := status("http://" + admin + "/metrics"); s != 200 {
		t.Errorf("admin /metrics: %d", s)
	}
	if s := status("http://" + public + "/metrics"); s != 404 {
		t.Errorf("public /metrics: %d, want 404 (metrics stay on the admin listener)", s)
	}
}
