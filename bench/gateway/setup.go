package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/sqlite"
)

// hashKey is the gateway's key for hashed ids: 32 bytes, fixed so runs are
// comparable.
const hashKey = "weaklink-bench-hash-key-32-bytes"

// gatewayStarted is when the gateway's background work (Run) began.
var gatewayStarted = time.Now()

// server is an http.Server on its own 127.0.0.1 listener.
type server struct {
	srv *http.Server
	URL string
}

func serve(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, URL: "http://" + ln.Addr().String()}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
}

// upstream is the fake Mixpanel: it reads the body and answers "1". It
// counts what it gets from the gateway (User-Agent weaklink-gateway) and from
// the baseline proxy, and can keep one gateway body for inspection.
type upstream struct {
	*server
	gwReqs, gwBytes       atomic.Int64
	otherReqs, otherBytes atomic.Int64
	capture               atomic.Bool
	mu                    sync.Mutex
	captured              []byte
}

func startUpstream() (*upstream, error) {
	u := &upstream{}
	s, err := serve(http.HandlerFunc(u.handle))
	u.server = s
	return u, err
}

func (u *upstream) handle(w http.ResponseWriter, r *http.Request) {
	fromGateway := r.Header.Get("User-Agent") == "weaklink-gateway"
	var n int64
	if fromGateway && u.capture.Load() {
		b, _ := io.ReadAll(r.Body)
		n = int64(len(b))
		u.mu.Lock()
		u.captured = b
		u.mu.Unlock()
	} else {
		n, _ = io.Copy(io.Discard, r.Body)
	}
	if fromGateway {
		u.gwReqs.Add(1)
		u.gwBytes.Add(n)
	} else {
		u.otherReqs.Add(1)
		u.otherBytes.Add(n)
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("1"))
}

// upstreamTransport is what both proxies use to reach the fake vendor: the
// gateway's own client settings (keep-alive, 64 idle connections per host,
// no compression), so the baseline is not slowed by net/http's default of 2
// idle connections per host.
func upstreamTransport() *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		DisableCompression:    true,
	}
}

// startBaseline is a plain reverse proxy to the upstream that inspects
// nothing: the cost of one proxy hop, which weaklink must also pay.
func startBaseline(upstreamURL string) (*server, error) {
	u, err := url.Parse(upstreamURL)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = upstreamTransport()
	rp.ErrorLog = log.New(os.Stderr, "baseline proxy: ", 0)
	return serve(rp)
}

// weaklink is the gateway with the acme inventory and policy, and what it
// needs: a temporary SQLite store, its configuration and its spool.
type weaklink struct {
	*server
	gw     *gateway.Gateway
	store  store.Store
	tmp    string
	cancel context.CancelFunc
	done   chan error
}

// startWeaklink loads examples/acme into a fresh SQLite store, writes the
// acme gateway configuration with the fake upstream and a temporary spool,
// and serves the gateway with its background work (Run) going.
func startWeaklink(repo, upstreamURL string, logLevel slog.Level) (_ *weaklink, err error) {
	acme := filepath.Join(repo, "examples", "acme")
	cfgIn := filepath.Join(acme, "gateway.yaml")
	if _, err := os.Stat(cfgIn); err != nil {
		return nil, fmt.Errorf("%s not found: run from the repository root or pass -repo (%v)", cfgIn, err)
	}
	tmp, err := os.MkdirTemp("", "weaklink-bench-gateway-")
	if err != nil {
		return nil, err
	}
	w := &weaklink{tmp: tmp}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tmp, "weaklink.db"), nil)
	if err != nil {
		return nil, err
	}
	w.store = st
	svc := service.New(st)
	if err := applyInventory(ctx, svc, acme); err != nil {
		return nil, err
	}
	cfgPath, err := writeConfig(cfgIn, tmp, upstreamURL)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	g, err := gateway.New(runCtx, gateway.Options{
		ConfigPath: cfgPath, Service: svc, AllowPrivateUpstreams: true,
		LookupEnv: func(k string) (string, bool) {
			if k == "WEAKLINK_HASH_KEY" {
				return hashKey, true
			}
			return "", false
		},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})),
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	w.gw = g
	w.done = make(chan error, 1)
	gatewayStarted = time.Now()
	go func() { w.done <- g.Run(runCtx) }()
	if w.server, err = serve(g.Handler()); err != nil {
		return nil, err
	}
	return w, nil
}

func applyInventory(ctx context.Context, svc *service.Service, dir string) error {
	doc, err := inventory.LoadPaths(dir)
	if err != nil {
		return fmt.Errorf("load %s: %w", dir, err)
	}
	plan, base, err := svc.Plan(ctx, doc, false)
	if err != nil {
		return fmt.Errorf("plan %s: %w", dir, err)
	}
	return svc.ApplyPlan(ctx, base, plan)
}

// writeConfig copies the acme gateway configuration with the fake upstream
// and a spool in dir, as the gateway tests do.
func writeConfig(src, dir, upstreamURL string) (string, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	s := string(b)
	for _, want := range []string{"https://api-js.mixpanel.com", "dir: ./var/spool"} {
		if !strings.Contains(s, want) {
			return "", fmt.Errorf("%s no longer contains %q; update the benchmark", src, want)
		}
	}
	s = strings.Replace(s, "https://api-js.mixpanel.com", upstreamURL, 1)
	s = strings.Replace(s, "dir: ./var/spool", "dir: "+filepath.Join(dir, "spool"), 1)
	path := filepath.Join(dir, "gateway.yaml")
	return path, os.WriteFile(path, []byte(s), 0o644)
}

// close stops the gateway (its Run flushes the ledger and closes the
// spools), the server, the store, and removes the temporary files.
func (w *weaklink) close() {
	if w.server != nil {
		w.server.close()
	}
	if w.cancel != nil {
		w.cancel()
		if w.done != nil {
			if err := <-w.done; err != nil {
				fmt.Fprintln(os.Stderr, "gateway Run:", err)
			}
		}
	}
	if w.store != nil {
		_ = w.store.Close()
	}
	_ = os.RemoveAll(w.tmp)
}

// metrics reads the gateway's own series (weaklink_gateway_*) from its
// /metrics endpoint, by name and labels.
func (w *weaklink) metrics(cl *http.Client) (map[string]float64, error) {
	resp, err := cl.Get(w.URL + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "weaklink_gateway_") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(val, &v); err == nil {
			out[name] = v
		}
	}
	return out, nil
}

// sanityCheck sends one batch through each proxy, checks both answer 200
// "1", and reads what the gateway forwarded: the benchmark is meaningless if
// the policy is not applied.
func sanityCheck(cl *http.Client, up *upstream, base, wl string, b batch) (*forwardCheck, error) {
	for _, u := range []string{base + trackPath(false), wl + trackPath(true)} {
		if u == wl+trackPath(true) {
			up.capture.Store(true)
		}
		status, body, err := postOnce(context.Background(), cl, u, b.Body)
		if err != nil {
			return nil, fmt.Errorf("POST %s: %w", u, err)
		}
		if status != http.StatusOK || !bytes.Equal(body, []byte("1")) {
			return nil, fmt.Errorf("POST %s: %d %q, want 200 \"1\"", u, status, body)
		}
	}
	up.capture.Store(false)
	up.mu.Lock()
	fwd := up.captured
	up.mu.Unlock()
	if fwd == nil {
		return nil, errors.New("the gateway answered 200 but the upstream got nothing from it (spooled?)")
	}
	events, err := decodeForwarded(fwd)
	if err != nil {
		return nil, fmt.Errorf("forwarded body: %w", err)
	}
	fc := &forwardCheck{Bytes: len(fwd), Events: len(events)}
	seen := map[string]bool{}
	for _, e := range events {
		props, _ := e["properties"].(map[string]any)
		fc.Props += len(props)
		for k := range props {
			seen[k] = true
		}
	}
	for _, k := range []string{"$email", "$city", "$region", "$browser", "$os", "$current_url", "$referrer", "org_id", "$device_id"} {
		if seen[k] {
			fc.Leaked = append(fc.Leaked, k)
		}
	}
	return fc, nil
}

type forwardCheck struct {
	Bytes  int      `json:"bytes"`
	Events int      `json:"events"`
	Props  int      `json:"properties"`
	Leaked []string `json:"leaked_fields,omitempty"`
}
