package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memSample is the process's memory at one moment. The gateway, the load
// generator, the fake upstream and the baseline proxy share this process, so
// these are upper bounds for the gateway.
type memSample struct {
	T          float64 `json:"t_s"`
	HeapInuse  uint64  `json:"heap_inuse"`
	HeapAlloc  uint64  `json:"heap_alloc"`
	Sys        uint64  `json:"sys"`
	RSS        uint64  `json:"rss"`
	Goroutines int     `json:"goroutines"`
	NumGC      uint32  `json:"num_gc"`
	Requests   int64   `json:"requests"`
}

type memResult struct {
	Duration  float64     `json:"duration_s"`
	Rate      float64     `json:"rate_req_per_s"`
	Load      pacedResult `json:"load"`
	Samples   []memSample `json:"samples"`
	From      memSample   `json:"from"` // first sample after the warm-up
	To        memSample   `json:"to"`   // last sample
	HeapGrow  float64     `json:"heap_inuse_growth_pct"`
	SysGrow   float64     `json:"sys_growth_pct"`
	RSSGrow   float64     `json:"rss_growth_pct"`
	RSSSlope  float64     `json:"rss_slope_mb_per_min"` // least squares, after the warm-up
	MaxRSS    uint64      `json:"max_rss_after_warmup"`
	WarmupSec float64     `json:"warmup_s"`
}

// memoryPhase measures whether memory stays flat under steady load: it
// sends the paced load to weaklink at rate for dur and samples memory every
// `every`. Growth compares the first sample after the warm-up with the
// last one.
func memoryPhase(ctx context.Context, cl *http.Client, url string, batches []batch, rate float64, dur, every, warmup time.Duration, workers int) memResult {
	cnt := newCounts()
	start := time.Now()
	var samples []memSample
	var mu sync.Mutex
	take := func() {
		s := sampleMem(start, cnt)
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
	}
	take()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				take()
			}
		}
	})
	load := paced(ctx, cl, "weaklink", url, batches, rate, dur, 64, false, cnt)
	close(stop)
	wg.Wait()
	take()
	return summarizeMem(samples, load, rate, dur, warmup)
}

func summarizeMem(samples []memSample, load pacedResult, rate float64, dur, warmup time.Duration) memResult {
	r := memResult{Duration: dur.Seconds(), Rate: rate, Load: load, Samples: samples, WarmupSec: warmup.Seconds()}
	from := 0
	for i, s := range samples {
		if s.T >= warmup.Seconds() && i < len(samples)-1 {
			from = i
			break
		}
	}
	r.From, r.To = samples[from], samples[len(samples)-1]
	r.HeapGrow = growth(r.From.HeapInuse, r.To.HeapInuse)
	r.SysGrow = growth(r.From.Sys, r.To.Sys)
	r.RSSGrow = growth(r.From.RSS, r.To.RSS)
	var xs, ys []float64
	for _, s := range samples[from:] {
		xs = append(xs, s.T/60)
		ys = append(ys, float64(s.RSS)/1e6)
		r.MaxRSS = max(r.MaxRSS, s.RSS)
	}
	r.RSSSlope = slope(xs, ys)
	return r
}

func sampleMem(start time.Time, cnt *counts) memSample {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSample{
		T: time.Since(start).Seconds(), HeapInuse: m.HeapInuse, HeapAlloc: m.HeapAlloc, Sys: m.Sys, RSS: vmRSS(),
		Goroutines: runtime.NumGoroutine(), NumGC: m.NumGC, Requests: cnt.ok.Load(),
	}
}

// vmRSS is the process's resident set size from /proc/self/status (0 when
// unavailable).
func vmRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func growth(from, to uint64) float64 {
	if from == 0 {
		return 0
	}
	return (float64(to) - float64(from)) / float64(from) * 100
}

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}
