package spool

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// drain empties s (for benchmarks, with the timer stopped).
func drain(b *testing.B, s *Spool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		if n, _ := s.Len(); n == 0 {
			return
		}
		if err := s.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		recs, err := s.Peek(1 << 20)
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) > 0 {
			if err := s.Ack(recs[len(recs)-1].ID); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAppend measures one goroutine appending 1 KB and 25 KB records
// in each sync mode. When the 64 MiB bound is reached the spool is drained
// with the timer stopped.
func BenchmarkAppend(b *testing.B) {
	for _, mode := range []SyncMode{SyncAlways, SyncBatch} {
		for _, size := range []int{1 << 10, 25 << 10} {
			b.Run(fmt.Sprintf("%s/%dKB", mode, size>>10), func(b *testing.B) {
				s := openT(b, b.TempDir(), Options{MaxBytes: 64 << 20, Sync: mode})
				defer s.Close()
				rec := make([]byte, size)
				b.SetBytes(int64(size))
				b.ResetTimer()
				for range b.N {
					if _, err := s.Append(rec); errors.Is(err, ErrFull) {
						b.StopTimer()
						drain(b, s)
						b.StartTimer()
						if _, err := s.Append(rec); err != nil {
							b.Fatal(err)
						}
					} else if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
			})
		}
	}
}

// BenchmarkAppendParallel measures concurrent appenders (b.RunParallel,
// GOMAXPROCS*4 goroutines): with SyncAlways they share fsyncs (group
// commit).
func BenchmarkAppendParallel(b *testing.B) {
	for _, mode := range []SyncMode{SyncAlways, SyncBatch} {
		b.Run(fmt.Sprintf("%s/1KB", mode), func(b *testing.B) {
			s := openT(b, b.TempDir(), Options{MaxBytes: 1 << 40, Sync: mode})
			defer s.Close()
			rec := make([]byte, 1<<10)
			b.SetBytes(int64(len(rec)))
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Append(rec); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkReplay measures the consumer side on 1 KB records: Peek(32)
// then either one Ack per record or one Ack for the 32.
func BenchmarkReplay(b *testing.B) {
	for _, mode := range []SyncMode{SyncAlways, SyncBatch} {
		for _, each := range []bool{true, false} {
			name := "ackBatch32"
			if each {
				name = "ackEach"
			}
			b.Run(fmt.Sprintf("%s/%s", mode, name), func(b *testing.B) {
				s := openT(b, b.TempDir(), Options{MaxBytes: 1 << 40, Sync: SyncBatch})
				rec := make([]byte, 1<<10)
				for range b.N {
					if _, err := s.Append(rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				s = openT(b, s.dir, Options{MaxBytes: 1 << 40, Sync: mode})
				defer s.Close()
				b.SetBytes(int64(len(rec)))
				b.ResetTimer()
				for done := 0; done < b.N; {
					recs, err := s.Peek(32)
					if err != nil || len(recs) == 0 {
						b.Fatalf("Peek: %d records, %v", len(recs), err)
					}
					if each {
						for _, r := range recs {
							if err := s.Ack(r.ID); err != nil {
								b.Fatal(err)
							}
						}
					} else if err := s.Ack(recs[len(recs)-1].ID); err != nil {
						b.Fatal(err)
					}
					done += len(recs)
				}
			})
		}
	}
}
