package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var (
	serveListeningRe   = regexp.MustCompile(`serve listening on (http://[0-9.:]+)`)
	gatewayListeningRe = regexp.MustCompile(`gateway listening on (http://[0-9.:]+)`)
)

// startServe runs `weaklink serve` in the background and returns its URL
// and a channel with its exit code.
func startServe(t *testing.T, db string, args ...string) (string, *lockedBuffer, <-chan int) {
	t.Helper()
	url, _, errOut, done := startServeOut(t, db, args...)
	return url, errOut, done
}

// startServeOut is startServe that also returns what serve prints.
func startServeOut(t *testing.T, db string, args ...string) (string, *lockedBuffer, *lockedBuffer, <-chan int) {
	t.Helper()
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(append([]string{"--db", db, "serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), out, errOut)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := serveListeningRe.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, errOut, done
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start: %s %s", out.String(), errOut.String())
	return "", nil, nil, nil
}

// TestServe starts the server as a user would, logs in, reads the
// inventory, and stops it with SIGTERM: in-flight requests finish, new
// connections are refused, the exit code is 0.
func TestServe(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		ok(t, db, "apply", "-f", acme)
		// A password the user chose (not a one-time one, which would have
		// to be changed before anything else).
		u := struct{ Password string }{"ada tests serve on loopback in december"}
		var out, errOut bytes.Buffer
		if code := Main([]string{"--db", db, "users", "add", "ada", "--role", "admin", "--password-stdin", "--no-change-required"},
			strings.NewReader(u.Password+"\n"), &out, &errOut); code != 0 {
			t.Fatalf("users add: %d %s", code, errOut.String())
		}
		url, logs, done := startServe(t, db, "--metrics-addr", "127.0.0.1:0")
		res, err := http.Get(url + "/readyz")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("readyz: %v %v", err, res)
		}
		res.Body.Close()
		body, _ := json.Marshal(map[string]string{"username": "ada", "password": u.Password})
		res, err = http.Post(url+"/api/v1/login", "application/json", bytes.NewReader(body))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("login: %v %v", err, res)
		}
		var login struct{ Secret string }
		_ = json.NewDecoder(res.Body).Decode(&login)
		res.Body.Close()
		req, _ := http.NewRequest("GET", url+"/api/v1/vendors/mixpanel", nil)
		req.Header.Set("Authorization", "Bearer "+login.Secret)
		res, err = http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("vendor: %v %v", err, res)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(b), `"id":"mixpanel"`) {
			t.Errorf("vendor: %s", b)
		}

		// SIGTERM while a request is in flight: it finishes, then serve
		// exits 0. The request is a slow upload, so it is surely running
		// when the signal arrives.
		pr, pw := io.Pipe()
		slow, _ := http.NewRequestWithContext(context.Background(), "POST", url+"/api/v1/incidents", pr)
		slow.Header.Set("Authorization", "Bearer "+login.Secret)
		slow.Header.Set("Content-Type", "application/json")
		type result struct {
			status int
			err    error
		}
		inflight := make(chan result, 1)
		go func() {
			res, err := http.DefaultClient.Do(slow)
			if err != nil {
				inflight <- result{0, err}
				return
			}
			res.Body.Close()
			inflight <- result{res.StatusCode, nil}
		}()
		_, _ = pw.Write([]byte(`{"vendor": "mixpanel", `))
		time.Sleep(200 * time.Millisecond)
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		_, _ = pw.Write([]byte(`"title": "during shutdown"}`))
		pw.Close()
		if got := <-inflight; got.err != nil || got.status != 201 {
			t.Errorf("the request in flight: %+v", got)
		}
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, logs.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop on SIGTERM")
		}
		if _, err := http.Get(url + "/healthz"); err == nil {
			t.Error("still serving after shutdown")
		}
		l := logs.String()
		if !strings.Contains(l, "serve: shutting down") || !strings.Contains(l, `route="GET /api/v1/vendors/{id}"`) {
			t.Errorf("logs:\n%s", l)
		}
		for _, secret := range []string{login.Secret, u.Password} {
			if strings.Contains(l, secret) {
				t.Error("the log holds a secret")
			}
		}
	})
}

func TestServeFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"serve", "--trusted-proxy", "not-an-ip"}, `--trusted-proxy "not-an-ip"`},
		{[]string{"serve", "--log-format", "xml"}, `--log-format "xml"`},
		{[]string{"serve", "--addr", "127.0.0.1:99999"}, "invalid port"},
	} {
		r := run(t, db, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %d %q", tc.args, r.code, r.stderr)
		}
	}
}

// TestServeWithGateway: `serve --gateway-config` runs the gateway in the
// same process on its own listener. Traffic through it reaches the
// vendor with the policy applied, the ledger records it (flushed on
// SIGTERM), the API shows it, and the server's /metrics includes the
// gateway's.
func TestServeWithGateway(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		ok(t, db, "apply", "-f", acme)
		run(t, db, "users", "add", "ops", "--role", "viewer")
		var tok struct{ Secret string }
		if err := json.Unmarshal([]byte(run(t, db, "tokens", "create", "--user", "ops", "--format", "json").stdout), &tok); err != nil || tok.Secret == "" {
			t.Fatalf("tokens create: %v", err)
		}
		var mu sync.Mutex
		var received []string
		vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			received = append(received, string(b))
			mu.Unlock()
			_, _ = w.Write([]byte("1"))
		}))
		defer vendor.Close()
		dir := t.TempDir()
		cfgPath := filepath.Join(dir, "gateway.yaml")
		if err := exampleGatewayConfig(acmeGateway, cfgPath, vendor.URL, filepath.Join(dir, "spool")); err != nil {
			t.Fatal(err)
		}
		t.Setenv("WEAKLINK_HASH_KEY", "serve-gateway-test-key-0123")
		url, out, logs, done := startServeOut(t, db, "--gateway-config", cfgPath, "--gateway-addr", "127.0.0.1:0", "--allow-private-upstreams")
		m := gatewayListeningRe.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no gateway address in %q", out.String())
		}
		form, err := os.ReadFile(filepath.Join(acme, "traffic", "track.form"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Post(m[1]+"/mp/track?ip=1", "application/x-www-form-urlencoded", bytes.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("through the gateway: %s", res.Status)
		}
		mu.Lock()
		if len(received) != 1 || strings.Contains(received[0], "ada") {
			t.Errorf("the vendor received %q", received)
		}
		mu.Unlock()
		req, _ := http.NewRequest("GET", url+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+tok.Secret)
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(metrics), `weaklink_gateway_requests_total{outcome="forwarded",vendor="mixpanel"} 1`) ||
			!strings.Contains(string(metrics), "go_goroutines") {
			t.Errorf("/metrics: %s, no gateway or runtime metrics:\n%s", res.Status, metrics)
		}
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("serve exited %d: %s", code, logs.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop on SIGTERM")
		}
		var ledger struct{ Subjects int }
		if err := json.Unmarshal([]byte(run(t, db, "ledger", "--vendor", "mixpanel", "--format", "json").stdout), &ledger); err != nil || ledger.Subjects != 1 {
			t.Errorf("ledger after shutdown: %+v %v", ledger, err)
		}
	})
}

// TestGatewayShutdownRecordsInFlight: a request still arriving when the
// gateway is told to stop (a slow upload) completes, and what it sent
// reaches the ledger: the ledger is flushed after the listeners have
// drained, not before.
func TestGatewayShutdownRecordsInFlight(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	ok(t, db, "apply", "-f", acme)
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("1"))
	}))
	defer vendor.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := exampleGatewayConfig(acmeGateway, cfgPath, vendor.URL, filepath.Join(dir, "spool")); err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := &service.Service{Store: st, Checker: inventory.DefaultChecker()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := gateway.New(ctx, gateway.Options{ConfigPath: cfgPath, Service: svc, AllowPrivateUpstreams: true,
		LookupEnv: func(string) (string, bool) { return "in-flight-test-key-0123456789", true }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- runGateway(ctx, g, ln, nil) }()
	form, err := os.ReadFile(filepath.Join(acme, "traffic", "track.form"))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	status := make(chan int, 1)
	go func() {
		res, err := http.Post("http://"+ln.Addr().String()+"/mp/track?ip=1", "application/x-www-form-urlencoded", pr)
		if err != nil {
			status <- 0
			return
		}
		res.Body.Close()
		status <- res.StatusCode
	}()
	_, _ = pw.Write(form[:len(form)/2])
	time.Sleep(200 * time.Millisecond) // the request is being read
	cancel()                           // stop now
	time.Sleep(200 * time.Millisecond) // long enough for a flush that does not wait
	_, _ = pw.Write(form[len(form)/2:])
	pw.Close()
	if code := <-status; code != 200 {
		t.Fatalf("the request in flight got %d", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sum, err := st.LedgerSummary(context.Background(), "mixpanel")
	if err != nil || sum.Subjects != 1 {
		t.Errorf("ledger after stopping with a request in flight: %+v, %v", sum, err)
	}
}
