// Command discover measures weaklink discovery on the labelled corpus in
// internal/discover/testdata/corpus: precision and recall of vendors and of
// (vendor, data category) pairs against each app's truth.yaml, and scan
// throughput.
//
//	go run ./bench/discover            # the table
//	go run ./bench/discover -v         # and every miss and false positive
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/discover"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

func main() {
	corpus := flag.String("corpus", "internal/discover/testdata/corpus", "corpus directory: one app per subdirectory, each with a truth.yaml")
	verbose := flag.Bool("v", false, "list every miss and false positive")
	rounds := flag.Int("rounds", 20, "scans of the whole corpus for the throughput figure")
	flag.Parse()
	ctx := context.Background()
	ev, err := discover.EvaluateCorpus(ctx, *corpus)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/discover:", err)
		os.Exit(1)
	}
	ev.Write(os.Stdout, *verbose)

	var bytes int64
	var files int
	began := time.Now()
	for range *rounds {
		s := discover.NewScanner(catalog.Default(), taxonomy.DefaultClassifier(), nil, discover.Options{})
		r, err := s.Scan(ctx, []string{*corpus})
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/discover:", err)
			os.Exit(1)
		}
		bytes += r.Stats.Bytes
		files += r.Stats.Files
	}
	el := time.Since(began)
	fmt.Printf("\nthroughput: %d files, %.1f MB in %v: %.0f files/s, %.1f MB/s\n",
		files, float64(bytes)/1e6, el.Round(time.Millisecond), float64(files)/el.Seconds(), float64(bytes)/1e6/el.Seconds())
}
