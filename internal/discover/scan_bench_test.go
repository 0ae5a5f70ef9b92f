package discover

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/weaklink/weaklink/internal/discover/treegen"
)

// benchScan scans roots b.N times, reporting the bytes scanned per second.
// Every iteration builds a new Scanner, as the CLI does for a run: a
// Scanner keeps what it learnt (vendors present, bound names) between
// scans.
func benchScan(b *testing.B, opts Options, roots ...string) {
	b.Helper()
	b.ReportAllocs()
	first := true
	for b.Loop() {
		r, err := newTestScanner(opts).Scan(context.Background(), roots)
		if err != nil {
			b.Fatal(err)
		}
		if first {
			if r.Stats.Bytes == 0 || len(r.Findings) == 0 {
				b.Fatalf("nothing scanned: %+v, %d findings", r.Stats, len(r.Findings))
			}
			b.SetBytes(r.Stats.Bytes)
			b.ReportMetric(float64(r.Stats.Files), "files/op")
			first = false
		}
	}
}

// BenchmarkScanCorpus scans every app of the labelled corpus in one run.
func BenchmarkScanCorpus(b *testing.B) {
	benchScan(b, Options{Exclude: []string{"truth.yaml"}}, filepath.Join("testdata", "corpus"))
}

// BenchmarkScanLargeTree scans a generated monorepo of about 2,000 source
// files (about 20 MB) in JavaScript, Python and Go, each with imports, SDK
// calls and a lot of ordinary code around them.
func BenchmarkScanLargeTree(b *testing.B) {
	root := b.TempDir()
	if _, err := treegen.Uniform(root, 2000, 10<<10); err != nil {
		b.Fatal(err)
	}
	benchScan(b, Options{}, root)
}

// BenchmarkScan5000Files scans a 5,000-file tree with a realistic mix of
// file sizes and kinds (treegen.Mixed): the target is under 3 s.
func BenchmarkScan5000Files(b *testing.B) {
	root := b.TempDir()
	if _, err := treegen.Mixed(root, 5000); err != nil {
		b.Fatal(err)
	}
	benchScan(b, Options{}, root)
}
