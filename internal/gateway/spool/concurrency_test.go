package spool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentAppendConsume: many producers against tight bounds (so
// that ErrFull happens and Ack frees space) and small segments (so that
// segments rotate and are deleted under load), one consumer using Wait,
// Peek and Ack. Every record is delivered exactly once in this run, in ID
// order, and each producer's records in the order it appended them. Run
// with -race.
func TestConcurrentAppendConsume(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncBatch} {
		t.Run(mode.String(), func(t *testing.T) {
			const producers, perProducer = 8, 300
			dir := t.TempDir()
			s := openT(t, dir, Options{MaxBytes: 8 << 10, MaxRecords: 40, SegmentSize: 2 << 10, Sync: mode, SyncInterval: time.Millisecond})
			var full sync.Map
			var wg sync.WaitGroup
			for p := range producers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := 0; k < perProducer; {
						_, err := s.Append([]byte(fmt.Sprintf("%d:%d:%s", p, k, strings.Repeat("p", k%50))))
						if errors.Is(err, ErrFull) {
							full.Store(p, true)
							runtime.Gosched()
							continue
						}
						if err != nil {
							t.Errorf("Append: %v", err)
							return
						}
						k++
					}
				}()
			}

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			next := make([]int, producers)
			var last uint64
			for got := 0; got < producers*perProducer; {
				if err := s.Wait(ctx); err != nil {
					t.Fatalf("Wait after %d records: %v", got, err)
				}
				recs, err := s.Peek(7)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					if r.ID <= last {
						t.Fatalf("ID %d after %d", r.ID, last)
					}
					last = r.ID
					f := strings.SplitN(string(r.Data), ":", 3)
					p, _ := strconv.Atoi(f[0])
					k, _ := strconv.Atoi(f[1])
					if k != next[p] || f[2] != strings.Repeat("p", k%50) {
						t.Fatalf("producer %d: got record %d (%q), want %d", p, k, r.Data, next[p])
					}
					next[p]++
					got++
				}
				if len(recs) > 0 {
					if err := s.Ack(recs[len(recs)-1].ID); err != nil {
						t.Fatal(err)
					}
				}
				if n, b := s.Len(); n > 40 || b > 8<<10 {
					t.Fatalf("bounds exceeded: %d records, %d bytes", n, b)
				}
			}
			wg.Wait()
			if _, ok := full.Load(0); !ok {
				t.Log("note: producer 0 never saw ErrFull")
			}
			if n, b := s.Len(); n != 0 || b != 0 {
				t.Fatalf("Len after draining = %d, %d", n, b)
			}
			closeT(t, s)
			s = openT(t, dir, Options{})
			defer closeT(t, s)
			if recs := peekAll(t, s); len(recs) != 0 {
				t.Fatalf("acknowledged records came back: %v", ids(recs))
			}
			if segs := segFiles(t, dir); len(segs) != 0 {
				t.Fatalf("segments left after a full drain: %v", segs)
			}
			if id := appendT(t, s, nil); id <= last {
				t.Fatalf("ID %d after reopen, last was %d", id, last)
			}
		})
	}
}

// TestConcurrentAppendDuringClose: Appends racing Close either succeed, and
// are then on disk, or get ErrClosed.
func TestConcurrentAppendDuringClose(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncBatch} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, Options{Sync: mode, SegmentSize: 1 << 10})
			var mu sync.Mutex
			var ok []uint64
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						id, err := s.Append([]byte("r"))
						if errors.Is(err, ErrClosed) {
							return
						}
						if err != nil {
							t.Errorf("Append: %v", err)
							return
						}
						mu.Lock()
						ok = append(ok, id)
						mu.Unlock()
					}
				}()
			}
			time.Sleep(20 * time.Millisecond)
			closeT(t, s)
			wg.Wait()
			s = openT(t, dir, Options{})
			defer closeT(t, s)
			got := ids(peekAll(t, s))
			slices.Sort(ok)
			if !slices.Equal(got, ok) {
				t.Fatalf("after Close and reopen: %d records, %d Appends returned an ID", len(got), len(ok))
			}
		})
	}
}

// TestConcurrentPeekLenWait: read-only calls from several goroutines while
// one appends and one consumes (for -race).
func TestConcurrentPeekLenWait(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncBatch, SyncInterval: time.Millisecond, SegmentSize: 512})
	defer closeT(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s.Len()
				if _, err := s.Peek(3); err != nil {
					t.Error(err)
					return
				}
				wctx, c := context.WithTimeout(ctx, time.Millisecond)
				_ = s.Wait(wctx)
				c()
			}
		}()
	}
	for i := range 500 {
		appendT(t, s, payload(i))
		if i%10 == 9 {
			recs, err := s.Peek(5)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) > 0 {
				if err := s.Ack(recs[len(recs)-1].ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	cancel()
	wg.Wait()
}
