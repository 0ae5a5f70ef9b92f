package service_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/inventory/invgen"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/postgres"
	"github.com/weaklink/weaklink/internal/store/postgres/pgtest"
	"github.com/weaklink/weaklink/internal/store/sqlite"
)

// The size the issue sets: apply of 10,000 vendors and 100,000 flows under
// 10 s, and who-has over it under 50 ms, on each database.
var large = invgen.Size{Vendors: 10_000, Systems: 500, Flows: 100_000}

func openBench(b *testing.B, backend string) store.Store {
	b.Helper()
	ctx := context.Background()
	var s store.Store
	var err error
	switch backend {
	case "sqlite":
		s, err = sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	case "postgres":
		s, err = postgres.Open(ctx, pgtest.URL(b), nil)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// writeLarge writes the generated inventory as one inventory-as-code file.
func writeLarge(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "large.yaml")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := inventory.WriteYAML(f, invgen.Generate(large, 1), "generated"); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkApplyLarge measures what `weaklink apply -f large.yaml` does on an
// empty database: read and validate the file, plan, write in one
// transaction. Run with -benchtime=1x: one iteration is the whole apply.
func BenchmarkApplyLarge(b *testing.B) {
	path := writeLarge(b)
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := openBench(b, backend)
				svc := service.New(s)
				b.StartTimer()
				doc, err := inventory.LoadPaths(path)
				if err != nil {
					b.Fatal(err)
				}
				plan, base, err := svc.Plan(context.Background(), doc, false)
				if err != nil {
					b.Fatal(err)
				}
				if err := svc.ApplyPlan(context.Background(), base, plan); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReapplyLarge measures the no-op apply of the same file over the
// stored inventory: read, validate, snapshot, diff.
func BenchmarkReapplyLarge(b *testing.B) {
	path := writeLarge(b)
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			s := openBench(b, backend)
			svc := service.New(s)
			load(b, svc, large)
			for b.Loop() {
				doc, err := inventory.LoadPaths(path)
				if err != nil {
					b.Fatal(err)
				}
				plan, _, err := svc.Plan(context.Background(), doc, true)
				if err != nil || !plan.Empty() {
					b.Fatalf("re-apply: %v, %d changes", err, len(plan.Changes))
				}
			}
		})
	}
}

func load(b *testing.B, svc *service.Service, size invgen.Size) {
	b.Helper()
	start := time.Now()
	plan, base, err := svc.Plan(context.Background(), inventory.FromInventory(invgen.Generate(size, 1)), false)
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.ApplyPlan(context.Background(), base, plan); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d vendors, %d flows in %v", size.Vendors, size.Flows, time.Since(start).Round(time.Millisecond))
}

// BenchmarkWhoHas measures `weaklink data who-has` over the large inventory
// for a leaf category and for a parent key.
func BenchmarkWhoHas(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			s := openBench(b, backend)
			svc := service.New(s)
			load(b, svc, large)
			for _, cat := range []string{"user.contact.email", "user.financial"} {
				b.Run(cat, func(b *testing.B) {
					var holders int
					for b.Loop() {
						res, err := svc.WhoHas(context.Background(), cat)
						if err != nil {
							b.Fatal(err)
						}
						holders = len(res.Holders)
					}
					b.ReportMetric(float64(holders), "holders")
				})
			}
		})
	}
}
