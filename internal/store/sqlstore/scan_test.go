package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/sqlite"
	"github.com/weaklink/weaklink/internal/store/sqlstore"
)

var t0 = time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)

// openLedger is a SQLite store with two vendors' ledgers: odd subjects,
// one subject with more rows than a chunk, residences for some of the
// subjects and for many people the ledger does not have, and a time
// stored in another form than TextTime's.
func openLedger(t *testing.T) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	r := rand.New(rand.NewPCG(1, 2))
	cats := []string{"system.operations", "user.contact.email", "user.contact.phone", "user.location.imprecise", "user.name", "user.unique_id.pseudonymous"}
	subjects := []string{"", "a", "a b", "\u00e9", "z\x7f"}
	for range 300 {
		subjects = append(subjects, fmt.Sprintf("s%04d", r.IntN(5000)))
	}
	var entries []store.LedgerEntry
	add := func(vendor, subject, category string) {
		first := t0.Add(time.Duration(r.IntN(1000)) * time.Hour).Add(time.Duration(r.IntN(1e6)) * time.Microsecond)
		entries = append(entries, store.LedgerEntry{Vendor: vendor, Subject: subject, Category: category,
			FirstSeen: first, LastSeen: first.Add(time.Duration(r.IntN(500)) * time.Hour), Messages: int64(1 + r.IntN(100))})
	}
	for i, subject := range subjects {
		for _, vendor := range []string{"v", "w"} {
			if i >= 5 && r.IntN(3) == 0 {
				continue
			}
			for _, c := range cats[:1+r.IntN(len(cats))] {
				add(vendor, subject, c)
			}
		}
	}
	for k := range 120 {
		add("v", "s2500", fmt.Sprintf("user.custom.c%03d", k))
	}
	if err := s.RecordLedger(ctx, entries, nil); err != nil {
		t.Fatal(err)
	}
	var rs []store.Residence
	for i := 0; i < 5000; i += 2 {
		rs = append(rs, store.Residence{Subject: fmt.Sprintf("s%04d", i), Jurisdiction: []string{"DE", "FR", "US-CA"}[i%3], ExternalID: fmt.Sprintf("ext-%d", i%7)})
	}
	rs = append(rs, store.Residence{Subject: "a", Jurisdiction: "GB"}, store.Residence{Subject: "z\x7f", Jurisdiction: "NL", ExternalID: "x"})
	if err := s.PutResidence(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SQL().ExecContext(ctx, `UPDATE ledger SET first_seen = '2025-10-02T03:04:05Z' WHERE subject = 'a'`); err != nil {
		t.Fatal(err)
	}
	return s
}

func scanAll(t *testing.T, s store.Store, f store.LedgerFilter) []store.LedgerEntry {
	t.Helper()
	var out []store.LedgerEntry
	if err := s.ScanLedger(context.Background(), f, func(e store.LedgerEntry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestChunkedScan: the chunked scan of one vendor reads what database/sql
// reads, in the same order, whatever the chunks, batches and connections.
func TestChunkedScan(t *testing.T) {
	s := openLedger(t)
	plain := sqlstore.WithoutOpenScan(s)
	filters := []store.LedgerFilter{
		{Vendor: "v"},
		{Vendor: "v", Residence: true},
		{Vendors: []string{"w"}, Residence: true, From: t0.Add(300 * time.Hour), To: t0.Add(700 * time.Hour)},
		{Vendor: "v", Category: "user.contact", Residence: true},
		{Vendor: "nobody", Residence: true},
	}
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	for _, f := range filters {
		want := scanAll(t, plain, f)
		if f.Vendor != "nobody" && len(want) < 100 {
			t.Fatalf("%+v: %d rows", f, len(want))
		}
		for _, size := range [][2]int{{1, 1}, {2, 3}, {7, 2}, {50, 16}, {100000, 1024}} {
			for _, p := range []int{1, 2, 4} {
				restore := sqlstore.SetScanSizes(size[0], size[1])
				runtime.GOMAXPROCS(p)
				got := scanAll(t, s, f)
				restore()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%+v, chunks of %d, batches of %d, %d connections: %d rows differ from database/sql's %d", f, size[0], size[1], p, len(got), len(want))
					for i := range min(len(got), len(want)) {
						if !reflect.DeepEqual(got[i], want[i]) {
							t.Fatalf("row %d: %+v, want %+v", i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestChunkedScanStops: an error from the caller's function, or the end
// of its context, ends the scan.
func TestChunkedScanStops(t *testing.T) {
	s := openLedger(t)
	defer sqlstore.SetScanSizes(5, 2)()
	stop := errors.New("stop")
	n := 0
	err := s.ScanLedger(context.Background(), store.LedgerFilter{Vendor: "v", Residence: true}, func(store.LedgerEntry) error {
		if n++; n == 37 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 37 {
		t.Errorf("after %d rows: %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = s.ScanLedger(ctx, store.LedgerFilter{Vendor: "v"}, func(store.LedgerEntry) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v after %d rows", err, n)
	}
}

// TestChunkedScanSnapshot: the connections of a chunked scan read one
// snapshot while a writer commits: every row of a scan has the count of
// messages of the same commit.
func TestChunkedScanSnapshot(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var entries []store.LedgerEntry
	for i := range 3000 {
		entries = append(entries, store.LedgerEntry{Vendor: "v", Subject: fmt.Sprintf("s%05d", i), Category: "user.name", FirstSeen: t0, LastSeen: t0, Messages: 1})
	}
	if err := s.RecordLedger(ctx, entries, nil); err != nil {
		t.Fatal(err)
	}
	defer sqlstore.SetScanSizes(40, 8)()
	// Commits land between the connections' beginnings.
	defer sqlstore.SetBeginHook(func() { time.Sleep(time.Millisecond) })()
	procs := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(procs)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := s.SQL().ExecContext(ctx, `UPDATE ledger SET messages = messages + 1`); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 30 {
		rows := scanAll(t, s, store.LedgerFilter{Vendor: "v"})
		if len(rows) != len(entries) {
			t.Fatalf("%d rows", len(rows))
		}
		for _, e := range rows {
			if e.Messages != rows[0].Messages {
				t.Fatalf("%s has %d messages, %s %d: two snapshots", e.Subject, e.Messages, rows[0].Subject, rows[0].Messages)
			}
		}
	}
	close(done)
	wg.Wait()
}
