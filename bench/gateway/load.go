package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// trackPath is where each proxy takes a Mixpanel /track batch. The query is
// what mixpanel-js sends; the gateway rewrites ip=1 to ip=0.
func trackPath(weaklink bool) string {
	if weaklink {
		return "/mp/track?ip=1&_=1732540000123"
	}
	return "/track?ip=1&_=1732540000123"
}

// newClient is the load generator's one shared client: keep-alive, enough
// idle connections per host for every worker.
func newClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        0, // no overall limit
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		Timeout: 30 * time.Second,
	}
}

// postOnce POSTs one batch as the browser SDK would and reads the answer.
func postOnce(ctx context.Context, cl *http.Client, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/131.0 Safari/537.36")
	req.Header.Set("Accept", "*/*")
	resp, err := cl.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, b, err
}

// counts are a load run's outcomes, safe for concurrent use.
type counts struct {
	ok, errs, non200 atomic.Int64
	bytes            atomic.Int64 // payload bytes of the 200s
	mu               sync.Mutex
	statuses         map[int]int64    // non-200 answers by status
	errMsgs          map[string]int64 // transport errors by message (first few)
}

func newCounts() *counts {
	return &counts{statuses: map[int]int64{}, errMsgs: map[string]int64{}}
}

// record counts one request's outcome.
func (c *counts) record(status int, n int, err error) {
	switch {
	case err != nil:
		c.errs.Add(1)
		c.mu.Lock()
		if _, ok := c.errMsgs[err.Error()]; ok || len(c.errMsgs) < 5 {
			c.errMsgs[err.Error()]++
		}
		c.mu.Unlock()
	case status == http.StatusOK:
		c.ok.Add(1)
		c.bytes.Add(int64(n))
	default:
		c.non200.Add(1)
		c.mu.Lock()
		c.statuses[status]++
		c.mu.Unlock()
	}
}

type snapshot struct{ ok, errs, non200, bytes int64 }

func (c *counts) snap() snapshot {
	return snapshot{c.ok.Load(), c.errs.Load(), c.non200.Load(), c.bytes.Load()}
}

// problems describes the non-200 answers and errors seen ("" if none).
func (c *counts) problems() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := ""
	for st, n := range c.statuses {
		s += fmt.Sprintf(" [%d x HTTP %d]", n, st)
	}
	for m, n := range c.errMsgs {
		s += fmt.Sprintf(" [%d x %s]", n, m)
	}
	return s
}

// gcStats is the Go runtime's work over a measured window, for the whole
// process (generator and upstream included, alike for both targets).
type gcStats struct {
	AllocPerReq   float64 `json:"alloc_bytes_per_req"`
	MallocsPerReq float64 `json:"mallocs_per_req"`
	Cycles        uint32  `json:"gc_cycles"`
	MaxPauseMs    float64 `json:"gc_max_pause_ms"`
}

func readMem() *runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &m
}

// gcSince is the runtime's work since m0, per request for reqs requests.
func gcSince(m0 *runtime.MemStats, reqs int64) gcStats {
	m1 := readMem()
	g := gcStats{Cycles: m1.NumGC - m0.NumGC}
	if reqs > 0 {
		g.AllocPerReq = float64(m1.TotalAlloc-m0.TotalAlloc) / float64(reqs)
		g.MallocsPerReq = float64(m1.Mallocs-m0.Mallocs) / float64(reqs)
	}
	// PauseNs keeps the last 256 pauses; cycle k is at (k+255)%256.
	for k := max(m0.NumGC+1, m1.NumGC-min(m1.NumGC, 255)); k <= m1.NumGC && k > m0.NumGC; k++ {
		g.MaxPauseMs = max(g.MaxPauseMs, float64(m1.PauseNs[(k+255)%256])/1e6)
	}
	return g
}

// throughputResult is one closed-loop measurement of one target.
type throughputResult struct {
	Target   string  `json:"target"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Non200   int64   `json:"non_200"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"req_per_s"`
	MBps     float64 `json:"payload_mb_per_s"`
	GC       gcStats `json:"gc"`
	Problems string  `json:"problems,omitempty"`
}

// closedLoop measures maximum throughput: c workers each POST a batch,
// wait for the answer and POST the next, as fast as they can. Only the
// measured window after the warm-up counts. With prof set, the CPU profile
// covers exactly the measured window.
func closedLoop(ctx context.Context, cl *http.Client, name, url string, batches []batch, c int, warm, d time.Duration, prof io.Writer) (throughputResult, error) {
	cnt := newCounts()
	var stop atomic.Bool
	var wg sync.WaitGroup
	// Stop by letting each worker finish its request in flight: cancelling
	// them would show up as errors in the proxies.
	defer func() { stop.Store(true); wg.Wait() }()
	for w := range c {
		wg.Go(func() {
			for i := w; !stop.Load() && ctx.Err() == nil; i += c {
				b := batches[i%len(batches)]
				status, _, err := postOnce(ctx, cl, url, b.Body)
				if stop.Load() || ctx.Err() != nil {
					return // the answer falls outside the window
				}
				cnt.record(status, len(b.Body), err)
			}
		})
	}
	if !sleepCtx(ctx, warm) {
		return throughputResult{}, ctx.Err()
	}
	m0 := readMem()
	s0, t0 := cnt.snap(), time.Now()
	if prof != nil {
		if err := pprof.StartCPUProfile(prof); err != nil {
			return throughputResult{}, err
		}
	}
	sleepCtx(ctx, d)
	s1, el := cnt.snap(), time.Since(t0)
	if prof != nil {
		pprof.StopCPUProfile()
	}
	gc := gcSince(m0, s1.ok-s0.ok+s1.errs-s0.errs+s1.non200-s0.non200)
	if ctx.Err() != nil {
		return throughputResult{}, ctx.Err()
	}
	sec := el.Seconds()
	return throughputResult{
		Target: name, Requests: s1.ok - s0.ok, Errors: s1.errs - s0.errs, Non200: s1.non200 - s0.non200, Seconds: sec,
		RPS: float64(s1.ok-s0.ok) / sec, MBps: float64(s1.bytes-s0.bytes) / sec / 1e6, GC: gc, Problems: cnt.problems(),
	}, nil
}

// pacedResult is one open-loop run at a fixed rate.
type pacedResult struct {
	Target   string   `json:"target"`
	Rate     float64  `json:"rate_req_per_s"`
	Achieved float64  `json:"achieved_req_per_s"`
	Sent     int64    `json:"sent"`
	OK       int64    `json:"ok"`
	Errors   int64    `json:"errors"`
	Non200   int64    `json:"non_200"`
	Dropped  int64    `json:"dropped"`
	Latency  latStats `json:"latency_ms"`
	Lag      latStats `json:"generator_lag_ms"`
	Slowest  []slow   `json:"slowest,omitempty"`
	GC       gcStats  `json:"gc"`
	Problems string   `json:"problems,omitempty"`
}

// slow is one of the slowest requests: its latency, and when it was sent in
// seconds since the gateway started (to line it up with periodic work: ledger
// flush every 2 s, observed flows every 30 s).
type slow struct {
	Ms float64 `json:"ms"`
	At float64 `json:"at_s"`
}

type sample struct {
	sent time.Time
	lat  time.Duration
}

// slowest are the n slowest samples, slowest first.
func slowest(ss []sample, n int) []slow {
	slices.SortFunc(ss, func(a, b sample) int { return cmp.Compare(b.lat, a.lat) })
	var out []slow
	for _, x := range ss[:min(n, len(ss))] {
		out = append(out, slow{Ms: ms(x.lat), At: x.sent.Sub(gatewayStarted).Seconds()})
	}
	return out
}

// latStats are percentiles in milliseconds.
type latStats struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// paced is the open-loop load: requests leave on a fixed schedule (one
// every 1/rate seconds) whatever the answers, handed to a pool of workers
// so a slow request does not delay the ones after it. A request's latency is
// from the moment a worker sends it to the end of the answer; the lag from
// its scheduled time to that moment is recorded apart, to show the
// generator kept up. When every worker is busy and the queue is full the
// request is dropped and counted. record=false keeps no latencies (for long
// runs). cnt, when not nil, is updated as requests complete.
func paced(ctx context.Context, cl *http.Client, name, url string, batches []batch, rate float64, dur time.Duration, workers int, record bool, cnt *counts) pacedResult {
	if cnt == nil {
		cnt = newCounts()
	}
	type job struct {
		at time.Time
		i  int
	}
	jobs := make(chan job, 1024)
	lats := make([][]sample, workers)
	lags := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := range jobs {
				b := batches[j.i%len(batches)]
				t := time.Now()
				status, _, err := postOnce(ctx, cl, url, b.Body)
				lat := time.Since(t)
				if ctx.Err() != nil {
					continue
				}
				cnt.record(status, len(b.Body), err)
				if record && err == nil && status == http.StatusOK {
					lats[w] = append(lats[w], sample{t, lat})
					lags[w] = append(lags[w], t.Sub(j.at))
				}
			}
		})
	}
	interval := time.Duration(float64(time.Second) / rate)
	n := int(dur / interval)
	var sent, dropped int64
	m0 := readMem()
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d) // sub-ms sleeps round up; late requests leave at once (catch-up)
		}
		select {
		case jobs <- job{at, i}:
			sent++
		default:
			dropped++
		}
	}
	close(jobs)
	wg.Wait()
	el := time.Since(start)
	s := cnt.snap()
	all := slices.Concat(lats...)
	durs := make([]time.Duration, len(all))
	for i, x := range all {
		durs[i] = x.lat
	}
	return pacedResult{
		Target: name, Rate: rate, Achieved: float64(s.ok) / el.Seconds(), Sent: sent, OK: s.ok, Errors: s.errs, Non200: s.non200,
		Dropped: dropped, Latency: percentiles(durs), Lag: percentiles(slices.Concat(lags...)), Slowest: slowest(all, 5),
		GC: gcSince(m0, s.ok+s.errs+s.non200), Problems: cnt.problems(),
	}
}

func percentiles(d []time.Duration) latStats {
	if len(d) == 0 {
		return latStats{}
	}
	slices.Sort(d)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return ms(d[max(i, 0)])
	}
	return latStats{N: len(d), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// sleepCtx sleeps for d unless ctx ends first; it reports whether it slept.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
