package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/weaklink/weaklink/internal/gateway/adapter"
	"github.com/weaklink/weaklink/internal/gateway/spool"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// Options configure a gateway.
type Options struct {
	ConfigPath string
	// Backend reads gates and writes the ledger and observed flows; nil
	// means Local(Service).
	Backend Backend
	// Service is the database's service, when Backend is nil.
	Service   *service.Service
	Logger    *slog.Logger
	Now       func() time.Time
	LookupEnv func(string) (string, bool)
	// GatePoll is how often the gateway reads vendor blocks and statuses from
	// the store (default 1 s: a block takes effect within about a second).
	GatePoll time.Duration
	// ReloadPoll is how often the configuration file is checked for changes.
	ReloadPoll time.Duration
	// ObservedEvery is how often observed flows are written to the inventory.
	ObservedEvery time.Duration
	// AllowPrivateUpstreams lets upstreams resolve to loopback or private
	// addresses. Off in production: a gateway only talks to vendors on the
	// public internet. Tests and demos with a fake vendor on 127.0.0.1 turn it on.
	AllowPrivateUpstreams bool
	// Metrics to register into; nil makes new ones.
	Metrics *Metrics
}

// Gateway is the proxy. It is safe for concurrent use.
type Gateway struct {
	opts    Options
	log     *slog.Logger
	rt      atomic.Pointer[runtime]
	gates   atomic.Pointer[gateState]
	ledger  *Ledger
	metrics *Metrics
	client  *http.Client

	spoolMu sync.Mutex
	spools  map[string]*vendorSpool

	cfgStamp fileStamp
}

type runtime struct {
	cfg    *Config
	engine *Engine
	routes []*route
}

type route struct {
	cfg      *RouteConfig
	ad       adapter.Adapter
	policy   *Policy
	upstream *url.URL
}

type gateState struct {
	gates  map[string]store.Gate
	loaded bool
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// New loads the configuration and makes a gateway. Call Run to start its
// background work (block polling, ledger flushes, reloads, spool replay).
func New(ctx context.Context, opts Options) (*Gateway, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.GatePoll <= 0 {
		opts.GatePoll = time.Second
	}
	if opts.ReloadPoll <= 0 {
		opts.ReloadPoll = time.Second
	}
	if opts.ObservedEvery <= 0 {
		opts.ObservedEvery = 30 * time.Second
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	if opts.Backend == nil {
		if opts.Service == nil {
			return nil, errors.New("gateway: no backend: give a service (database) or a server client")
		}
		opts.Backend = Local(opts.Service)
	}
	g := &Gateway{opts: opts, log: opts.Logger, metrics: opts.Metrics, spools: map[string]*vendorSpool{}}
	g.gates.Store(&gateState{gates: map[string]store.Gate{}})
	rt, stamp, err := g.load()
	if err != nil {
		return nil, err
	}
	g.rt.Store(rt)
	g.cfgStamp = stamp
	var hash func(string) string
	if rt.cfg.Ledger.Subjects == "hashed" {
		hash = rt.engine.Hash
	}
	g.ledger = NewLedger(opts.Backend, hash)
	g.client = &http.Client{
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, Control: g.dialControl}).DialContext,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: time.Duration(rt.cfg.Limits.UpstreamTimeout),
			DisableCompression:    true,
		},
		Timeout: time.Duration(rt.cfg.Limits.UpstreamTimeout),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // never follow a vendor's redirect elsewhere
		},
	}
	if err := g.refreshGates(ctx); err != nil {
		g.log.Warn("gateway: cannot read vendor blocks yet; blocking all vendors until it can", "err", err)
	}
	return g, nil
}

// Metrics returns the gateway's metrics.
func (g *Gateway) Metrics() *Metrics { return g.metrics }

// Ledger returns the gateway's ledger.
func (g *Gateway) Ledger() *Ledger { return g.ledger }

// Config is the configuration in force.
func (g *Gateway) Config() *Config { return g.rt.Load().cfg }

// dialControl refuses upstream connections to non-public addresses unless
// they are allowed.
func (g *Gateway) dialControl(_, address string, _ syscall.RawConn) error {
	if g.opts.AllowPrivateUpstreams {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("upstream address %q: %w", address, err)
	}
	a := ap.Addr().Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified() || a.IsMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(a) {
		return fmt.Errorf("upstream address %s is not public; refusing (allow_private_upstreams is off)", a)
	}
	return nil
}

func (g *Gateway) load() (*runtime, fileStamp, error) {
	st, err := os.Stat(g.opts.ConfigPath)
	if err != nil {
		return nil, fileStamp{}, err
	}
	cfg, err := LoadConfig(g.opts.ConfigPath, g.opts.LookupEnv)
	if err != nil {
		return nil, fileStamp{}, err
	}
	rt, err := compile(cfg)
	return rt, fileStamp{st.ModTime(), st.Size()}, err
}

func compile(cfg *Config) (*runtime, error) {
	rt := &runtime{cfg: cfg, engine: NewEngine(cfg.HashKeyBytes())}
	for i := range cfg.Routes {
		rc := &cfg.Routes[i]
		ad, err := newAdapter(rc)
		if err != nil {
			return nil, fmt.Errorf("%s: routes[%d]: %w", cfg.File(), i, err)
		}
		u, _ := url.Parse(rc.Upstream)
		rt.routes = append(rt.routes, &route{cfg: rc, ad: ad, policy: cfg.Policies[rc.Policy], upstream: u})
	}
	// Longest prefix first.
	slices.SortStableFunc(rt.routes, func(a, b *route) int { return len(b.cfg.Prefix) - len(a.cfg.Prefix) })
	return rt, nil
}

func newAdapter(rc *RouteConfig) (adapter.Adapter, error) {
	switch rc.Adapter {
	case "mixpanel":
		return adapter.Mixpanel{}, nil
	case "segment":
		return adapter.Segment{}, nil
	case "amplitude":
		return adapter.Amplitude{}, nil
	case "ga4":
		return adapter.GA4{}, nil
	case "generic":
		gr := rc.Generic
		g, err := adapter.NewGeneric(adapter.GenericConfig{
			Paths: gr.Paths, PassThrough: gr.PassThrough, Messages: gr.Messages, Kind: gr.Kind, Name: gr.Name,
			Props: gr.Props, Fields: gr.Fields, Subject: gr.Subject, Dedup: gr.Dedup,
		})
		if err != nil {
			return nil, err // not a typed nil inside the interface
		}
		return g, nil
	}
	return nil, fmt.Errorf("unknown adapter %q", rc.Adapter)
}

// Reload reads the configuration file again and swaps it in atomically. A
// configuration with errors is rejected and the one in force keeps serving.
func (g *Gateway) Reload() error {
	rt, stamp, err := g.load()
	if err != nil {
		g.metrics.Reloads.WithLabelValues("rejected").Inc()
		g.log.Error("gateway: configuration rejected; the previous one keeps serving", "file", g.opts.ConfigPath, "errors", err.Error())
		return err
	}
	g.rt.Store(rt)
	g.cfgStamp = stamp
	g.metrics.Reloads.WithLabelValues("ok").Inc()
	g.log.Info("gateway: configuration reloaded", "file", g.opts.ConfigPath, "routes", len(rt.routes))
	return nil
}

func (g *Gateway) refreshGates(ctx context.Context) error {
	rt := g.rt.Load()
	vendors := make([]string, 0, len(rt.routes))
	for _, r := range rt.routes {
		vendors = append(vendors, r.cfg.Vendor)
	}
	gates, err := g.opts.Backend.Gates(ctx, vendors)
	if err != nil {
		return err
	}
	g.gates.Store(&gateState{gates: gates, loaded: true})
	return nil
}

// blockReason says why traffic to a route's vendor may not be forwarded, or
// "" when it may.
func (g *Gateway) blockReason(r *route) (key, msg string) {
	st := g.gates.Load()
	v := r.cfg.Vendor
	if !st.loaded {
		return "unknown_state", "the gateway cannot read the inventory yet; nothing is forwarded until it can"
	}
	gate, ok := st.gates[v]
	switch {
	case !ok || !gate.Exists:
		if !r.cfg.AllowUnapproved {
			return "not_in_inventory", fmt.Sprintf("vendor %q is not in the inventory", v)
		}
	case gate.Block != nil:
		// The reason is the operator's (it may name an incident); clients on
		// the public internet are told only that the vendor is blocked.
		return "blocked", fmt.Sprintf("vendor %q is blocked", v)
	case gate.Status != "approved" && gate.Status != "active" && !r.cfg.AllowUnapproved:
		return "not_approved", fmt.Sprintf("vendor %q is %s, not approved", v, gate.Status)
	}
	return "", ""
}

func (rt *runtime) match(path string) *route {
	for _, r := range rt.routes {
		if strings.HasPrefix(path, r.cfg.Prefix) {
			return r
		}
	}
	return nil
}

// ServeHTTP handles one client request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := g.rt.Load()
	rte := rt.match(r.URL.Path)
	if rte == nil {
		writeError(w, http.StatusNotFound, "no gateway route for "+r.URL.Path)
		return
	}
	vendor := rte.cfg.Vendor
	if key, msg := g.blockReason(rte); key != "" {
		if key == "blocked" {
			g.log.Debug("gateway: refused traffic to a blocked vendor", "vendor", vendor)
		}
		g.metrics.Requests.WithLabelValues(vendor, "blocked").Inc()
		g.metrics.Blocked.WithLabelValues(vendor, key).Inc()
		g.ledger.CountBlocked(vendor, key, 1)
		writeError(w, http.StatusForbidden, msg+"; the request was not forwarded")
		return
	}
	sub := "/" + strings.TrimPrefix(r.URL.Path, rte.cfg.Prefix)
	kind := rte.ad.Route(r.Method, sub)
	if kind == adapter.RouteReject {
		g.metrics.Requests.WithLabelValues(vendor, "rejected").Inc()
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s %s is not an ingestion endpoint of the %s API", r.Method, sub, rte.cfg.Adapter))
		return
	}
	body, gzipped, err := readBody(w, r, rt.cfg.Limits.MaxBodyBytes)
	if err != nil {
		status, outcome := http.StatusBadRequest, "parse_error"
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) || errors.Is(err, errTooLarge) {
			status, outcome = http.StatusRequestEntityTooLarge, "too_large"
		}
		g.metrics.Requests.WithLabelValues(vendor, outcome).Inc()
		writeError(w, status, err.Error())
		return
	}
	g.metrics.Bytes.WithLabelValues(vendor, "in").Add(float64(len(body)))
	in := &adapter.Request{Method: r.Method, Path: sub, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	client := clientIP(r)
	if kind == adapter.RoutePassThrough {
		g.metrics.Requests.WithLabelValues(vendor, "pass_through").Inc()
		g.forward(r.Context(), w, rte, in, gzipped, client, false)
		return
	}
	batch, err := rte.ad.Decode(in)
	if err != nil {
		g.metrics.Requests.WithLabelValues(vendor, "parse_error").Inc()
		if rte.cfg.OnParseError == "pass" {
			g.log.Warn("gateway: body not parsed; forwarded unchanged (on_parse_error: pass)", "vendor", vendor, "path", sub)
			g.forward(r.Context(), w, rte, in, gzipped, client, false)
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: %v; the request was not forwarded (on_parse_error: block)", rte.cfg.Adapter, err))
		return
	}
	out := rt.engine.Apply(rte.policy, batch, rte.cfg.Adapter)
	// One Prometheus lookup per (action, category) of the request.
	for k, n := range out.Counts {
		if k.Action != ActKeep {
			cat := k.Category
			if cat == "" {
				cat = "unclassified"
			}
			g.metrics.Fields.WithLabelValues(vendor, actionName(k.Action), cat).Add(float64(n))
		}
	}
	if out.DroppedMessages > 0 {
		g.metrics.Blocked.WithLabelValues(vendor, "drop_events").Add(float64(out.DroppedMessages))
	}
	kinds := map[adapter.Kind]int{}
	for _, m := range batch.Messages {
		kinds[m.Kind]++
	}
	for k, n := range kinds {
		g.metrics.Messages.WithLabelValues(vendor, string(k)).Add(float64(n))
	}
	g.ledger.Add(vendor, rte.cfg.System, rte.cfg.Prefix, out, g.opts.Now())
	if len(batch.Messages) == 0 {
		g.metrics.Requests.WithLabelValues(vendor, "all_dropped").Inc()
		writeAck(w, rte.cfg.Adapter, in)
		return
	}
	outReq, err := rte.ad.Encode(in, batch)
	if err != nil {
		g.log.Error("gateway: cannot encode a policed batch", "vendor", vendor, "err", err)
		writeError(w, http.StatusInternalServerError, "the gateway could not re-encode the request")
		return
	}
	g.forward(r.Context(), w, rte, outReq, gzipped, client, batch.DropClientIP)
}

var errTooLarge = errors.New("request body too large")

// readBody reads the body within the limit, gunzipping it (the limit also
// bounds the decompressed size).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, false, err
	}
	if !strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		return body, false, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, true, fmt.Errorf("gzip body: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, true, fmt.Errorf("gzip body: %w", err)
	}
	if int64(len(plain)) > limit {
		return nil, true, fmt.Errorf("%w: more than %d bytes after gzip decompression", errTooLarge, limit)
	}
	return plain, true, nil
}

// clientIP is the address of the client: the connection's peer, or the
// first X-Forwarded-For entry when the peer is a local proxy.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil && (a.IsLoopback() || a.IsPrivate()) {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			if _, err := netip.ParseAddr(strings.TrimSpace(first)); err == nil {
				return strings.TrimSpace(first)
			}
		}
	}
	return host
}

// upstreamRequest is what is sent to a vendor, and what the spool keeps.
type upstreamRequest struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// forwardedHeaders pass from the client to the vendor; all others (cookies,
// referrer, the browser's user agent) stay behind.
var forwardedHeaders = []string{"Content-Type", "Authorization", "Accept"}

func (g *Gateway) buildUpstream(rte *route, req *adapter.Request, gzipped bool, client string, dropIP bool) (*upstreamRequest, error) {
	u := *rte.upstream
	u.Path = strings.TrimSuffix(u.Path, "/") + req.Path
	u.RawQuery = req.Query.Encode()
	h := http.Header{}
	for _, k := range forwardedHeaders {
		if v := req.Header.Values(k); len(v) > 0 {
			h[k] = slices.Clone(v)
		}
	}
	h.Set("User-Agent", "weaklink-gateway")
	switch rte.policy.ClientIP {
	case ActKeep:
		if !dropIP {
			h.Set("X-Forwarded-For", client)
		}
	case "truncate":
		if t, ok := truncateIP(client); ok {
			h.Set("X-Forwarded-For", t)
		}
	}
	body := req.Body
	if gzipped {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(body); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		body = buf.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	return &upstreamRequest{Method: req.Method, URL: u.String(), Header: h, Body: body}, nil
}

// forward sends a request upstream, or spools it when the upstream is down
// or a backlog is waiting (order is kept).
func (g *Gateway) forward(ctx context.Context, w http.ResponseWriter, rte *route, req *adapter.Request, gzipped bool, client string, dropIP bool) {
	vendor := rte.cfg.Vendor
	up, err := g.buildUpstream(rte, req, gzipped, client, dropIP)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the gateway could not build the upstream request")
		return
	}
	g.metrics.Bytes.WithLabelValues(vendor, "out").Add(float64(len(up.Body)))
	sp, err := g.spoolFor(vendor)
	if err != nil {
		g.log.Error("gateway: spool unavailable", "vendor", vendor, "err", err)
	}
	if sp != nil {
		if n, _ := sp.s.Len(); n > 0 {
			g.enqueue(w, rte, req, sp, up)
			return
		}
	}
	resp, err := g.send(ctx, vendor, up)
	if err == nil && resp.status < 500 && resp.status != http.StatusTooManyRequests {
		g.metrics.Requests.WithLabelValues(vendor, "forwarded").Inc()
		for k, v := range resp.header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.status)
		_, _ = w.Write(resp.body)
		return
	}
	if sp == nil {
		g.metrics.Requests.WithLabelValues(vendor, "upstream_error").Inc()
		writeError(w, http.StatusBadGateway, fmt.Sprintf("vendor %s is unavailable and no spool is configured", vendor))
		return
	}
	g.enqueue(w, rte, req, sp, up)
}

func (g *Gateway) enqueue(w http.ResponseWriter, rte *route, req *adapter.Request, sp *vendorSpool, up *upstreamRequest) {
	vendor := rte.cfg.Vendor
	rec, _ := json.Marshal(up)
	if _, err := sp.s.Append(rec); err != nil {
		outcome, status := "spool_error", http.StatusServiceUnavailable
		switch {
		case errors.Is(err, spool.ErrFull):
			outcome = "spool_full"
		case errors.Is(err, spool.ErrTooLarge):
			outcome, status = "too_large", http.StatusRequestEntityTooLarge
		}
		g.metrics.Requests.WithLabelValues(vendor, outcome).Inc()
		writeError(w, status, fmt.Sprintf("vendor %s is unavailable and the spool cannot take this request (%v)", vendor, err))
		return
	}
	g.metrics.Requests.WithLabelValues(vendor, "spooled").Inc()
	g.updateSpoolGauges(vendor, sp)
	sp.kick()
	writeAck(w, rte.cfg.Adapter, req)
}

type upstreamResponse struct {
	status int
	header http.Header
	body   []byte
}

func (g *Gateway) send(ctx context.Context, vendor string, up *upstreamRequest) (*upstreamResponse, error) {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), up.Method, up.URL, bytes.NewReader(up.Body))
	if err != nil {
		return nil, err
	}
	req.Header = up.Header.Clone()
	start := time.Now()
	resp, err := g.client.Do(req)
	g.metrics.Upstream.WithLabelValues(vendor).Observe(time.Since(start).Seconds())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	for _, k := range []string{"Content-Type"} {
		if v := resp.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	return &upstreamResponse{status: resp.StatusCode, header: h, body: body}, nil
}

// writeAck answers a client whose messages were accepted without an
// upstream answer (spooled, or all dropped by policy), in the shape its SDK
// expects.
func writeAck(w http.ResponseWriter, adapterName string, req *adapter.Request) {
	switch adapterName {
	case "mixpanel":
		if req.Query.Get("verbose") == "1" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":1,"error":null}`))
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("1"))
	case "segment":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success":true}`))
	case "amplitude":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"code":200}`))
	case "ga4":
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"accepted"}`))
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// vendorSpool is one vendor's spool and its replayer's wake-up signal.
type vendorSpool struct {
	s    *spool.Spool
	wake chan struct{}
}

func (v *vendorSpool) kick() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// spoolFor opens a vendor's spool on first use (nil without spool.dir).
func (g *Gateway) spoolFor(vendor string) (*vendorSpool, error) {
	cfg := g.rt.Load().cfg
	if cfg.Spool.Dir == "" {
		return nil, nil
	}
	g.spoolMu.Lock()
	defer g.spoolMu.Unlock()
	if sp := g.spools[vendor]; sp != nil {
		return sp, nil
	}
	dir := filepath.Join(cfg.Spool.Dir, vendor)
	s, err := spool.Open(dir, spool.Options{MaxBytes: cfg.Spool.MaxBytes})
	if errors.Is(err, spool.ErrCorrupt) {
		// Keep serving: quarantine the damaged part (kept as *.corrupt for
		// the operator) and deliver everything before and after it.
		g.log.Error("gateway: spool damaged; quarantining the damaged records", "vendor", vendor, "err", err)
		s, err = spool.Open(dir, spool.Options{MaxBytes: cfg.Spool.MaxBytes, QuarantineCorrupt: true})
	}
	if err != nil {
		return nil, err
	}
	sp := &vendorSpool{s: s, wake: make(chan struct{}, 1)}
	g.spools[vendor] = sp
	return sp, nil
}

func (g *Gateway) updateSpoolGauges(vendor string, sp *vendorSpool) {
	n, b := sp.s.Len()
	g.metrics.SpoolDepth.WithLabelValues(vendor).Set(float64(n))
	g.metrics.SpoolBytes.WithLabelValues(vendor).Set(float64(b))
}

// replay sends a vendor's spooled requests in order while the vendor is not
// blocked, backing off while its upstream fails.
func (g *Gateway) replay(ctx context.Context, vendor string, sp *vendorSpool) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		recs, err := sp.s.Peek(32)
		if err != nil {
			g.log.Error("gateway: spool read failed", "vendor", vendor, "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if len(recs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-sp.wake:
			case <-time.After(time.Second):
			}
			continue
		}
		if rte := g.rt.Load().routeFor(vendor); rte == nil || func() bool { k, _ := g.blockReason(rte); return k != "" }() {
			sleep(ctx, g.opts.GatePoll) // blocked or unrouted: keep the backlog, forward nothing
			continue
		}
		// Ack once per batch, up to the last record delivered: an ack is an
		// fsync, and a crash between delivery and ack only re-sends what the
		// vendor's dedup key absorbs.
		var delivered uint64
		for _, rec := range recs {
			var up upstreamRequest
			if err := json.Unmarshal(rec.Data, &up); err != nil {
				g.log.Error("gateway: skipping an unreadable spool record", "vendor", vendor, "id", rec.ID)
				delivered = rec.ID
				continue
			}
			resp, err := g.send(ctx, vendor, &up)
			if err != nil || resp.status >= 500 || resp.status == http.StatusTooManyRequests {
				sleep(ctx, backoff)
				backoff = min(backoff*2, 5*time.Second)
				break
			}
			backoff = 100 * time.Millisecond
			delivered = rec.ID
			g.metrics.Requests.WithLabelValues(vendor, "replayed").Inc()
		}
		if delivered > 0 {
			if err := sp.s.Ack(delivered); err != nil {
				g.log.Error("gateway: spool ack failed", "vendor", vendor, "err", err)
			}
		}
		g.updateSpoolGauges(vendor, sp)
	}
}

func (rt *runtime) routeFor(vendor string) *route {
	for _, r := range rt.routes {
		if r.cfg.Vendor == vendor {
			return r
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Run does the gateway's background work until ctx ends, then flushes the
// ledger and closes the spools: block polling, ledger flushes, observed
// flows, configuration reloads on file change, and spool replay (including
// what a previous process left in the spool).
func (g *Gateway) Run(ctx context.Context) error {
	cfg := g.rt.Load().cfg
	if cfg.Spool.Dir != "" {
		entries, _ := os.ReadDir(cfg.Spool.Dir)
		for _, e := range entries {
			if e.IsDir() {
				if _, err := g.spoolFor(e.Name()); err != nil {
					g.log.Error("gateway: cannot open spool", "vendor", e.Name(), "err", err)
				}
			}
		}
	}
	replaying := map[string]bool{}
	startReplayers := func() {
		g.spoolMu.Lock()
		defer g.spoolMu.Unlock()
		for v, sp := range g.spools {
			if !replaying[v] {
				replaying[v] = true
				go g.replay(ctx, v, sp)
			}
		}
	}
	startReplayers()
	gateTick := time.NewTicker(g.opts.GatePoll)
	defer gateTick.Stop()
	flushTick := time.NewTicker(time.Duration(cfg.Ledger.FlushInterval))
	defer flushTick.Stop()
	obsTick := time.NewTicker(g.opts.ObservedEvery)
	defer obsTick.Stop()
	reloadTick := time.NewTicker(g.opts.ReloadPoll)
	defer reloadTick.Stop()
	for {
		select {
		case <-ctx.Done():
			g.shutdown()
			return nil
		case <-gateTick.C:
			if err := g.refreshGates(ctx); err != nil && ctx.Err() == nil {
				g.log.Warn("gateway: cannot read vendor blocks; keeping the last known state", "err", err)
			}
			startReplayers()
		case <-flushTick.C:
			g.flush(ctx)
		case <-g.ledger.flushNow:
			g.flush(ctx)
		case <-obsTick.C:
			g.updateObserved(ctx)
		case <-reloadTick.C:
			if st, err := os.Stat(g.opts.ConfigPath); err == nil && (st.ModTime() != g.cfgStamp.mod || st.Size() != g.cfgStamp.size) {
				g.cfgStamp = fileStamp{st.ModTime(), st.Size()}
				_ = g.Reload()
			}
		}
	}
}

func (g *Gateway) flush(ctx context.Context) {
	if err := g.ledger.Flush(ctx); err != nil && ctx.Err() == nil {
		g.metrics.LedgerErrs.Inc()
		g.log.Warn("gateway: ledger flush failed; entries kept for the next flush", "err", err)
	}
}

func (g *Gateway) updateObserved(ctx context.Context) {
	if err := g.ledger.UpdateObserved(ctx, g.purpose); err != nil && ctx.Err() == nil {
		g.log.Warn("gateway: observed flows not written", "err", err)
	}
}

// shutdown flushes what is pending and closes the spools.
func (g *Gateway) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.flush(ctx)
	g.updateObserved(ctx)
	g.spoolMu.Lock()
	defer g.spoolMu.Unlock()
	for _, sp := range g.spools {
		_ = sp.s.Close()
	}
}

// FlushNow writes pending ledger entries and observed flows (for tests and
// `gateway explain`).
func (g *Gateway) FlushNow(ctx context.Context) error {
	if err := g.ledger.Flush(ctx); err != nil {
		return err
	}
	return g.ledger.UpdateObserved(ctx, g.purpose)
}

// purpose is the purpose of a vendor's observed flow, from its route.
func (g *Gateway) purpose(vendor string) string {
	if r := g.rt.Load().routeFor(vendor); r != nil {
		return r.cfg.Purpose
	}
	return "analytics"
}

// Handler serves the gateway with the admin endpoints (/metrics, /healthz)
// beside it, for a single listener.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	g.addAdmin(mux)
	mux.Handle("/", g)
	return mux
}

// AdminHandler serves only /metrics and /healthz, for a separate, private
// listener; the public one then serves the gateway alone.
func (g *Gateway) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	g.addAdmin(mux)
	return mux
}

func (g *Gateway) addAdmin(mux *http.ServeMux) {
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
}
