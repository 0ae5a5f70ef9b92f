// Command gateway benchmarks the weaklink gateway against a plain reverse
// proxy, side by side in one run, on 127.0.0.1:
//
//	go run ./bench/gateway -rounds 3 -d 10s -ld 10s
//	go run ./bench/gateway -rounds 1 -d 5s -ld 5s -mem 5m
//
// It starts a fake Mixpanel upstream, a baseline httputil.ReverseProxy to it
// that inspects nothing, and the gateway with the acme inventory and policy
// (examples/acme) in front of the same upstream, then measures:
//
//   - throughput: the most requests a second each proxy serves with a
//     realistic Mixpanel batch (closed loop, rounds alternating between the
//     two); target: weaklink at least 70% of the baseline;
//   - latency: percentiles at a fixed rate of half of weaklink's maximum
//     (open loop); target: p99 added latency under 2 ms;
//   - memory (-mem): heap and RSS over a long run at that rate; target: flat.
//
// Everything runs in this one process on the same cores: the load
// generator, the upstream and both proxies compete for CPU, equally for
// both targets. With -json the JSON summary goes to stdout and the
// plain-text report to stderr.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"syscall"
	"time"
)

type config struct {
	repo       string
	workers    int
	dur        time.Duration
	warmup     time.Duration
	rounds     int
	latDur     time.Duration
	loadFrac   float64
	latWorkers int
	mem        time.Duration
	memEvery   time.Duration
	memWarmup  time.Duration
	users      int
	cpuProfile string
	json       bool
	verbose    bool
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.repo, "repo", ".", "repository root (holds examples/acme)")
	flag.IntVar(&c.workers, "c", 8, "concurrent workers in the throughput phase")
	flag.DurationVar(&c.dur, "d", 10*time.Second, "measured duration of each throughput run")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up before each throughput run")
	flag.IntVar(&c.rounds, "rounds", 3, "throughput rounds (each runs baseline and weaklink)")
	flag.DurationVar(&c.latDur, "ld", 10*time.Second, "duration of each latency run (0 skips)")
	flag.Float64Var(&c.loadFrac, "load", 0.5, "latency and memory phases' rate, as a fraction of weaklink's maximum")
	flag.IntVar(&c.latWorkers, "lw", 64, "workers in the latency and memory phases")
	flag.DurationVar(&c.mem, "mem", 0, "duration of the memory phase, e.g. 5m (0 skips)")
	flag.DurationVar(&c.memEvery, "mem-every", 10*time.Second, "memory sampling interval")
	flag.DurationVar(&c.memWarmup, "mem-warmup", time.Minute, "memory phase warm-up excluded from the growth figures")
	flag.IntVar(&c.users, "users", 16, "distinct batches (one user each) rotated through")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the last weaklink throughput run to this file")
	flag.BoolVar(&c.json, "json", false, "print a JSON summary on stdout (the text report goes to stderr)")
	flag.BoolVar(&c.verbose, "v", false, "log the gateway's info messages (default: warnings and errors only)")
	flag.Parse()
	return c
}

func main() {
	cfg := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench/gateway:", err)
		stop()
		os.Exit(1)
	}
}

// summary is everything measured; the text report and -json both come
// from it.
type summary struct {
	Go         string             `json:"go"`
	GOMAXPROCS int                `json:"gomaxprocs"`
	NumCPU     int                `json:"num_cpu"`
	Payload    payloadInfo        `json:"payload"`
	Forwarded  *forwardCheck      `json:"forwarded"`
	Workers    int                `json:"workers"`
	Rounds     []round            `json:"rounds"`
	Baseline   float64            `json:"baseline_median_req_per_s"`
	Weaklink   float64            `json:"weaklink_median_req_per_s"`
	BaselineMB float64            `json:"baseline_median_mb_per_s"`
	WeaklinkMB float64            `json:"weaklink_median_mb_per_s"`
	Ratio      float64            `json:"ratio"`
	Latency    *latencySummary    `json:"latency,omitempty"`
	Memory     *memResult         `json:"memory,omitempty"`
	Gateway    map[string]float64 `json:"gateway_metrics"`
	Upstream   upstreamCounts     `json:"upstream"`
}

type payloadInfo struct {
	Events        int     `json:"events"`
	PropsPerEvent float64 `json:"properties_per_event"`
	JSONBytes     int     `json:"json_bytes"`
	BodyBytes     int     `json:"body_bytes"`
	Users         int     `json:"users"`
}

type round struct {
	Order    string           `json:"order"`
	Baseline throughputResult `json:"baseline"`
	Weaklink throughputResult `json:"weaklink"`
}

type latencySummary struct {
	Rate     float64     `json:"rate_req_per_s"`
	Baseline pacedResult `json:"baseline"`
	Weaklink pacedResult `json:"weaklink"`
	AddedP50 float64     `json:"added_p50_ms"`
	AddedP99 float64     `json:"added_p99_ms"`
}

type upstreamCounts struct {
	FromGateway  int64 `json:"from_gateway"`
	GatewayBytes int64 `json:"gateway_bytes"`
	FromBaseline int64 `json:"from_baseline"`
}

func run(ctx context.Context, cfg config) error {
	out := io.Writer(os.Stdout)
	if cfg.json {
		out = os.Stderr
	}
	env, err := setup(cfg)
	if err != nil {
		return err
	}
	defer env.close()
	s := &summary{Go: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), Workers: cfg.workers}
	s.Payload = describePayload(env.batches)
	if s.Forwarded, err = sanityCheck(env.client, env.up, env.base.URL, env.wl.URL, env.batches[0]); err != nil {
		return fmt.Errorf("sanity check: %w", err)
	}
	printHeader(out, s)

	if err := throughputPhase(ctx, out, cfg, env, s); err != nil {
		return err
	}
	if cfg.latDur > 0 {
		if err := latencyPhase(ctx, out, cfg, env, s); err != nil {
			return err
		}
	}
	if cfg.mem > 0 {
		rate := cfg.loadFrac * s.Weaklink
		fmt.Fprintf(out, "\nMemory phase: %s at %.0f req/s to weaklink, sampling every %s ...\n", cfg.mem, rate, cfg.memEvery)
		m := memoryPhase(ctx, env.client, env.wl.URL+trackPath(true), env.batches, rate, cfg.mem, cfg.memEvery, cfg.memWarmup, cfg.latWorkers)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.Memory = &m
		printMemory(out, &m)
	}
	s.Gateway, _ = env.wl.metrics(env.client)
	s.Upstream = upstreamCounts{env.up.gwReqs.Load(), env.up.gwBytes.Load(), env.up.otherReqs.Load()}
	printGateway(out, s)
	fmt.Fprintln(out, "\nClassifier throughput is measured separately: go test -run '^$' -bench ScanJSON ./internal/taxonomy/ -cpu 1")
	if cfg.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return nil
}

// env is what the phases run against.
type env struct {
	up      *upstream
	base    *server
	wl      *weaklink
	client  *http.Client
	batches []batch
}

func setup(cfg config) (_ *env, err error) {
	if cfg.workers < 1 || cfg.rounds < 1 || cfg.users < 1 || cfg.dur <= 0 {
		return nil, fmt.Errorf("-c, -rounds, -users and -d must be positive")
	}
	e := &env{}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if e.batches, err = makeBatches(cfg.users, 1); err != nil {
		return nil, err
	}
	if e.up, err = startUpstream(); err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	if e.base, err = startBaseline(e.up.URL); err != nil {
		return nil, fmt.Errorf("baseline proxy: %w", err)
	}
	level := slog.LevelWarn
	if cfg.verbose {
		level = slog.LevelInfo
	}
	if e.wl, err = startWeaklink(cfg.repo, e.up.URL, level); err != nil {
		return nil, fmt.Errorf("weaklink: %w", err)
	}
	e.client = newClient(max(cfg.workers, cfg.latWorkers) * 2)
	return e, nil
}

// close stops everything in reverse order of start.
func (e *env) close() {
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	if e.wl != nil {
		e.wl.close()
	}
	if e.base != nil {
		e.base.close()
	}
	if e.up != nil {
		e.up.close()
	}
}

func describePayload(bs []batch) payloadInfo {
	p := payloadInfo{Events: eventsPerBatch, Users: len(bs)}
	props := 0
	for _, b := range bs {
		p.JSONBytes += b.JSONBytes
		p.BodyBytes += len(b.Body)
		props += b.Props
	}
	p.JSONBytes /= len(bs)
	p.BodyBytes /= len(bs)
	p.PropsPerEvent = float64(props) / float64(len(bs)*eventsPerBatch)
	return p
}

// throughputPhase measures each proxy's maximum throughput, alternating
// the two (baseline first in odd rounds, weaklink first in even ones) so
// drift in the machine affects both alike; the medians are the result.
func throughputPhase(ctx context.Context, out io.Writer, cfg config, e *env, s *summary) error {
	fmt.Fprintf(out, "\nThroughput (closed loop: %d workers, each POSTs the next batch when the last is answered; %s warm-up + %s measured per run)\n",
		cfg.workers, cfg.warmup, cfg.dur)
	fmt.Fprintf(out, "%-6s %-20s %16s %16s %7s\n", "round", "order", "baseline req/s", "weaklink req/s", "ratio")
	for r := 1; r <= cfg.rounds; r++ {
		rd := round{Order: "baseline, weaklink"}
		first, second := "baseline", "weaklink"
		if r%2 == 0 {
			rd.Order, first, second = "weaklink, baseline", "weaklink", "baseline"
		}
		for _, name := range []string{first, second} {
			res, err := measureTarget(ctx, cfg, e, name, r == cfg.rounds)
			if err != nil {
				return err
			}
			if name == "baseline" {
				rd.Baseline = res
			} else {
				rd.Weaklink = res
			}
		}
		s.Rounds = append(s.Rounds, rd)
		fmt.Fprintf(out, "%-6d %-20s %16.0f %16.0f %7.3f\n", r, rd.Order, rd.Baseline.RPS, rd.Weaklink.RPS, rd.Weaklink.RPS/rd.Baseline.RPS)
	}
	s.Baseline = median(s.Rounds, func(r round) float64 { return r.Baseline.RPS })
	s.Weaklink = median(s.Rounds, func(r round) float64 { return r.Weaklink.RPS })
	s.BaselineMB = median(s.Rounds, func(r round) float64 { return r.Baseline.MBps })
	s.WeaklinkMB = median(s.Rounds, func(r round) float64 { return r.Weaklink.MBps })
	s.Ratio = s.Weaklink / s.Baseline
	fmt.Fprintf(out, "median baseline %.0f req/s (%.1f MB/s of payload), weaklink %.0f req/s (%.1f MB/s); weaklink/baseline %.3f  [target >= 0.70: %s]\n",
		s.Baseline, s.BaselineMB, s.Weaklink, s.WeaklinkMB, s.Ratio, verdict(s.Ratio >= 0.70))
	last := s.Rounds[len(s.Rounds)-1]
	fmt.Fprintf(out, "runtime work per request, whole process, last round: baseline %.1f KB in %.0f allocations, weaklink %.1f KB in %.0f allocations; GC cycles/s %.1f vs %.1f\n",
		last.Baseline.GC.AllocPerReq/1024, last.Baseline.GC.MallocsPerReq, last.Weaklink.GC.AllocPerReq/1024, last.Weaklink.GC.MallocsPerReq,
		float64(last.Baseline.GC.Cycles)/last.Baseline.Seconds, float64(last.Weaklink.GC.Cycles)/last.Weaklink.Seconds)
	for _, rd := range s.Rounds {
		for _, t := range []throughputResult{rd.Baseline, rd.Weaklink} {
			if t.Errors+t.Non200 > 0 || t.Problems != "" {
				fmt.Fprintf(out, "  %s: %d errors, %d non-200 in the window;%s\n", t.Target, t.Errors, t.Non200, t.Problems)
			}
		}
	}
	if cfg.cpuProfile != "" {
		fmt.Fprintf(out, "CPU profile of the last weaklink run: %s (go tool pprof -top -cum %s)\n", cfg.cpuProfile, cfg.cpuProfile)
	}
	return nil
}

// measureTarget is one closed-loop run against a target; the last weaklink
// run is profiled when asked.
func measureTarget(ctx context.Context, cfg config, e *env, name string, last bool) (throughputResult, error) {
	url := e.base.URL + trackPath(false)
	if name == "weaklink" {
		url = e.wl.URL + trackPath(true)
	}
	var prof io.Writer
	if name == "weaklink" && last && cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return throughputResult{}, err
		}
		defer f.Close()
		prof = f
	}
	res, err := closedLoop(ctx, e.client, name, url, e.batches, cfg.workers, cfg.warmup, cfg.dur, prof)
	if err == nil && res.Requests == 0 {
		err = fmt.Errorf("%s: no successful request in %s;%s", name, cfg.dur, res.Problems)
	}
	settle()
	return res, err
}

// latencyPhase measures latency at a fixed rate, half of weaklink's
// maximum by default: first the baseline, then weaklink, each after a
// one-second warm-up at the same rate. Added latency is the difference of
// the percentiles.
func latencyPhase(ctx context.Context, out io.Writer, cfg config, e *env, s *summary) error {
	rate := cfg.loadFrac * s.Weaklink
	ls := &latencySummary{Rate: rate}
	fmt.Fprintf(out, "\nLatency (open loop: %.0f req/s = %.0f%% of weaklink's median maximum, on a fixed schedule over %d workers; %s per target after 1s warm-up)\n",
		rate, cfg.loadFrac*100, cfg.latWorkers, cfg.latDur)
	for _, name := range []string{"baseline", "weaklink"} {
		url := e.base.URL + trackPath(false)
		if name == "weaklink" {
			url = e.wl.URL + trackPath(true)
		}
		paced(ctx, e.client, name, url, e.batches, rate, time.Second, cfg.latWorkers, false, nil)
		res := paced(ctx, e.client, name, url, e.batches, rate, cfg.latDur, cfg.latWorkers, true, nil)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if name == "baseline" {
			ls.Baseline = res
		} else {
			ls.Weaklink = res
		}
		settle()
	}
	ls.AddedP50 = ls.Weaklink.Latency.P50 - ls.Baseline.Latency.P50
	ls.AddedP99 = ls.Weaklink.Latency.P99 - ls.Baseline.Latency.P99
	s.Latency = ls
	fmt.Fprintf(out, "%-9s %8s %7s %5s %6s %8s %8s %8s %8s %9s\n", "target", "achieved", "ok", "err", "non200", "p50 ms", "p90 ms", "p99 ms", "max ms", "lag p99")
	for _, r := range []pacedResult{ls.Baseline, ls.Weaklink} {
		fmt.Fprintf(out, "%-9s %8.0f %7d %5d %6d %8.2f %8.2f %8.2f %8.2f %9.2f\n", r.Target, r.Achieved, r.OK, r.Errors, r.Non200,
			r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.Lag.P99)
		fmt.Fprintf(out, "  %s: %d GC cycles (max pause %.2f ms), %.1f KB allocated per request; slowest:", r.Target, r.GC.Cycles, r.GC.MaxPauseMs, r.GC.AllocPerReq/1024)
		for _, x := range r.Slowest {
			fmt.Fprintf(out, " %.1f ms at t=%.1fs", x.Ms, x.At)
		}
		fmt.Fprintln(out)
		if r.Dropped > 0 || r.Problems != "" {
			fmt.Fprintf(out, "  %s: %d dropped by the generator (all workers busy);%s\n", r.Target, r.Dropped, r.Problems)
		}
	}
	fmt.Fprintf(out, "added latency (weaklink - baseline): p50 %.2f ms, p99 %.2f ms  [target p99 < 2 ms: %s]\n",
		ls.AddedP50, ls.AddedP99, verdict(ls.AddedP99 < 2))
	fmt.Fprintln(out, "(latency: from sending to the end of the answer; lag: how late the generator sent it, not included;")
	fmt.Fprintln(out, " t: seconds since the gateway started, which flushes its ledger every 2s and writes observed flows every 30s)")
	return nil
}

func printHeader(out io.Writer, s *summary) {
	p := s.Payload
	fmt.Fprintf(out, "weaklink gateway benchmark: %s %s/%s, GOMAXPROCS %d, %d CPUs\n", s.Go, runtime.GOOS, runtime.GOARCH, s.GOMAXPROCS, s.NumCPU)
	fmt.Fprintln(out, "One process on 127.0.0.1: load generator, fake Mixpanel upstream, baseline httputil.ReverseProxy (inspects nothing)")
	fmt.Fprintln(out, "and the weaklink gateway (acme inventory in SQLite, examples/acme/gateway.yaml policy, spool on, ledger hashed).")
	fmt.Fprintf(out, "Payload: Mixpanel /track batch, %d events, %.1f properties/event, JSON %.1f KB, body %.1f KB (form data=base64, URL-escaped); %d users rotated\n",
		p.Events, p.PropsPerEvent, float64(p.JSONBytes)/1024, float64(p.BodyBytes)/1024, p.Users)
	f := s.Forwarded
	leak := "none of the dropped fields reached the upstream"
	if len(f.Leaked) > 0 {
		leak = fmt.Sprintf("LEAKED to the upstream: %v", f.Leaked)
	}
	fmt.Fprintf(out, "Policy check: weaklink forwarded %d events, %.1f properties/event, body %.1f KB; %s\n",
		f.Events, float64(f.Props)/float64(max(f.Events, 1)), float64(f.Bytes)/1024, leak)
}

func printMemory(out io.Writer, m *memResult) {
	fmt.Fprintf(out, "Memory (in-process: the figures include the load generator, upstream and baseline proxy)\n")
	fmt.Fprintf(out, "%7s %10s %12s %12s %10s %10s %6s %9s\n", "t (s)", "requests", "HeapInuse MB", "HeapAlloc MB", "Sys MB", "RSS MB", "gorout", "GCs")
	for _, x := range m.Samples {
		fmt.Fprintf(out, "%7.0f %10d %12.1f %12.1f %10.1f %10.1f %6d %9d\n", x.T, x.Requests, mb(x.HeapInuse), mb(x.HeapAlloc), mb(x.Sys), mb(x.RSS), x.Goroutines, x.NumGC)
	}
	l := m.Load
	fmt.Fprintf(out, "load: %d ok, %d errors, %d non-200, %d dropped, %.0f req/s achieved;%s\n", l.OK, l.Errors, l.Non200, l.Dropped, l.Achieved, l.Problems)
	fmt.Fprintf(out, "from t=%.0fs (after %.0fs warm-up) to t=%.0fs: HeapInuse %.1f -> %.1f MB (%+.1f%%), Sys %.1f -> %.1f MB (%+.1f%%), RSS %.1f -> %.1f MB (%+.1f%%)\n",
		m.From.T, m.WarmupSec, m.To.T, mb(m.From.HeapInuse), mb(m.To.HeapInuse), m.HeapGrow, mb(m.From.Sys), mb(m.To.Sys), m.SysGrow, mb(m.From.RSS), mb(m.To.RSS), m.RSSGrow)
	fmt.Fprintf(out, "RSS trend after warm-up: %+.2f MB/min (least squares), max %.1f MB  [flat: RSS growth within 10%%: %s]\n",
		m.RSSSlope, mb(m.MaxRSS), verdict(m.RSSGrow < 10))
}

func printGateway(out io.Writer, s *summary) {
	fmt.Fprintln(out, "\nGateway outcomes over the whole run (its /metrics), and what the upstream received:")
	keys := make([]string, 0, len(s.Gateway))
	for k := range s.Gateway {
		if hasAnyPrefix(k, "weaklink_gateway_requests_total", "weaklink_gateway_spool_records", "weaklink_gateway_ledger_flush_errors_total", "weaklink_gateway_config_reloads_total") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "  %s %.0f\n", k, s.Gateway[k])
	}
	u := s.Upstream
	fmt.Fprintf(out, "  upstream: %d requests from weaklink (%.1f KB/request after the policy), %d from the baseline proxy\n",
		u.FromGateway, float64(u.GatewayBytes)/1024/float64(max(u.FromGateway, 1)), u.FromBaseline)
}

func hasAnyPrefix(s string, ps ...string) bool {
	for _, p := range ps {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

func median(rs []round, f func(round) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// settle lets connections and the garbage collector calm down between runs.
func settle() {
	runtime.GC()
	time.Sleep(500 * time.Millisecond)
}
