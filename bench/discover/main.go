// Command discover measures weaklink discovery: precision and recall of
// vendors and of (vendor, data category) pairs on the labelled corpus in
// internal/discover/testdata/corpus against each app's truth.yaml, scan
// throughput on that corpus, and the time, CPU and peak memory of a scan of
// a generated 5,000-file tree.
//
//	go run ./bench/discover            # the table and the figures
//	go run ./bench/discover -v         # and every miss and false positive
//	go run ./bench/discover -files 20000
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/discover"
	"github.com/weaklink/weaklink/internal/discover/treegen"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

func main() {
	corpus := flag.String("corpus", "internal/discover/testdata/corpus", "corpus directory: one app per subdirectory, each with a truth.yaml")
	verbose := flag.Bool("v", false, "list every miss and false positive")
	rounds := flag.Int("rounds", 20, "scans of the whole corpus for the throughput figure")
	files := flag.Int("files", 5000, "files in the generated tree (0: skip it)")
	runs := flag.Int("runs", 3, "scans of the generated tree, each in a fresh process")
	scanOnly := flag.String("scan", "", "internal: scan this directory, print its stats as JSON and exit")
	flag.Parse()
	ctx := context.Background()
	if *scanOnly != "" {
		r, err := newScanner().Scan(ctx, []string{*scanOnly})
		check(err)
		check(json.NewEncoder(os.Stdout).Encode(childReport{Stats: r.Stats, PeakKB: peakKB()}))
		return
	}

	ev, err := discover.EvaluateCorpus(ctx, *corpus)
	check(err)
	ev.Write(os.Stdout, *verbose)

	var bytes int64
	var n int
	began := time.Now()
	for range *rounds {
		r, err := newScanner().Scan(ctx, []string{*corpus})
		check(err)
		bytes += r.Stats.Bytes
		n += r.Stats.Files
	}
	el := time.Since(began)
	fmt.Printf("\ncorpus throughput: %d files, %.1f MB in %v: %.0f files/s, %.1f MB/s\n",
		n, float64(bytes)/1e6, el.Round(time.Millisecond), float64(n)/el.Seconds(), float64(bytes)/1e6/el.Seconds())

	if *files > 0 {
		tree(*files, *runs)
	}
}

// tree scans a generated tree in child processes, so that each run's peak
// memory is its own, and prints the median run.
func tree(files, runs int) {
	dir, err := os.MkdirTemp("", "weaklink-bench-discover-")
	check(err)
	defer os.RemoveAll(dir)
	size, err := treegen.Mixed(dir, files)
	check(err)
	self, err := os.Executable()
	check(err)
	type run struct {
		wall, cpu time.Duration
		rssMB     float64
		stats     discover.Stats
	}
	var rs []run
	for range runs {
		cmd := exec.Command(self, "-scan", dir)
		cmd.Stderr = os.Stderr
		began := time.Now()
		out, err := cmd.Output()
		check(err)
		wall := time.Since(began)
		var rep childReport
		check(json.Unmarshal(out, &rep))
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		rs = append(rs, run{wall: wall, cpu: cpu, rssMB: float64(rep.PeakKB) / 1024, stats: rep.Stats})
	}
	slices.SortFunc(rs, func(a, b run) int { return int(a.wall - b.wall) })
	m := rs[len(rs)/2]
	fmt.Printf("\ngenerated tree: %d files written (%.1f MB); scanned %d files (%.1f MB), %d skipped\n",
		files, float64(size)/1e6, m.stats.Files, float64(m.stats.Bytes)/1e6, m.stats.Skipped)
	fmt.Printf("median of %d runs, each a fresh process: wall %v (target < 3s), CPU %v = %.2f cores busy, peak RSS %.0f MB (target < 300 MB), %.1f MB/s\n",
		runs, m.wall.Round(time.Millisecond), m.cpu.Round(time.Millisecond), m.cpu.Seconds()/m.wall.Seconds(), m.rssMB,
		float64(m.stats.Bytes)/1e6/m.wall.Seconds())
}

// childReport is what a scan child prints.
type childReport struct {
	Stats discover.Stats `json:"stats"`
	// PeakKB is the child's own peak resident memory (VmHWM). The rusage
	// of a child started with os/exec is not used: Linux copies the
	// parent's peak into the child's at fork.
	PeakKB int64 `json:"peak_kb"`
}

// peakKB reads this process's peak resident memory from /proc.
func peakKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	check(err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			check(err)
			return n
		}
	}
	check(fmt.Errorf("/proc/self/status has no VmHWM"))
	return 0
}

func newScanner() *discover.Scanner {
	return discover.NewScanner(catalog.Default(), taxonomy.DefaultClassifier(), nil, discover.Options{})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/discover:", err)
		os.Exit(1)
	}
}
