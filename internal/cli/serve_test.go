package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
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

var listeningRe = regexp.MustCompile(`listening on (http://[0-9.:]+)`)

// startServe runs `weaklink serve` in the background and returns its URL
// and a channel with its exit code.
func startServe(t *testing.T, db string, args ...string) (string, *lockedBuffer, <-chan int) {
	t.Helper()
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(append([]string{"--db", db, "serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), out, errOut)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listeningRe.FindStringSubmatch(out.String()); m != nil {
			return m[1], errOut, done
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start: %s %s", out.String(), errOut.String())
	return "", nil, nil
}

// TestServe starts the server as a user would, logs in, reads the
// inventory, and stops it with SIGTERM: in-flight requests finish, new
// connections are refused, the exit code is 0.
func TestServe(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		ok(t, db, "apply", "-f", acme)
		r := run(t, db, "users", "add", "ada", "--role", "admin", "--format", "json")
		var u struct{ Password string }
		if err := json.Unmarshal([]byte(r.stdout), &u); err != nil || u.Password == "" {
			t.Fatalf("users add: %v %+v", err, r)
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
