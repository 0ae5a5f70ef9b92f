package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func openT(t testing.TB, dir string, opt Options) *Spool {
	t.Helper()
	if opt.MaxBytes == 0 {
		opt.MaxBytes = 1 << 30
	}
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func closeT(t testing.TB, s *Spool) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func appendT(t testing.TB, s *Spool, data []byte) uint64 {
	t.Helper()
	id, err := s.Append(data)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return id
}

func payload(id int) []byte {
	// Sizes vary so that offsets do not line up on anything.
	return []byte(fmt.Sprintf("record-%d-%s", id, strings.Repeat("x", id*7%97)))
}

// peekAll returns every record Peek can see (all of them, for small ones).
func peekAll(t testing.TB, s *Spool) []Record {
	t.Helper()
	recs, err := s.Peek(1 << 30)
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	return recs
}

func ids(recs []Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func TestAppendPeekAckOrder(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	defer closeT(t, s)
	for i := 1; i <= 100; i++ {
		if id := appendT(t, s, payload(i)); id != uint64(i) {
			t.Fatalf("Append #%d got ID %d", i, id)
		}
	}
	recs, err := s.Peek(10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(recs); !slices.Equal(got, seq(1, 10)) {
		t.Fatalf("Peek(10) = %v", got)
	}
	for _, r := range recs {
		if !bytes.Equal(r.Data, payload(int(r.ID))) {
			t.Fatalf("record %d: data %q", r.ID, r.Data)
		}
	}
	// Peek does not remove.
	again, _ := s.Peek(3)
	if got := ids(again); !slices.Equal(got, seq(1, 3)) {
		t.Fatalf("second Peek(3) = %v", got)
	}
	if err := s.Ack(10); err != nil {
		t.Fatal(err)
	}
	recs, _ = s.Peek(10)
	if got := ids(recs); !slices.Equal(got, seq(11, 20)) {
		t.Fatalf("Peek after Ack(10) = %v", got)
	}
	// Acking in the middle of what was peeked, and re-acking, are fine.
	if err := s.Ack(15); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(12); err != nil {
		t.Fatal(err)
	}
	recs, _ = s.Peek(1)
	if got := ids(recs); !slices.Equal(got, []uint64{16}) {
		t.Fatalf("Peek after Ack(15) = %v", got)
	}
	if n, _ := s.Len(); n != 85 {
		t.Fatalf("Len = %d records, want 85", n)
	}
	if recs, _ := s.Peek(0); recs != nil {
		t.Fatalf("Peek(0) = %v", recs)
	}
}

func TestLenCountsFraming(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	defer closeT(t, s)
	var want int64
	for i := 1; i <= 10; i++ {
		appendT(t, s, payload(i))
		want += int64(len(payload(i))) + headerSize
	}
	n, b := s.Len()
	if n != 10 || b != want {
		t.Fatalf("Len = %d, %d; want 10, %d", n, b, want)
	}
	if err := s.Ack(4); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		want -= int64(len(payload(i))) + headerSize
	}
	if n, b := s.Len(); n != 6 || b != want {
		t.Fatalf("after Ack(4): Len = %d, %d; want 6, %d", n, b, want)
	}
}

func TestEmptyRecord(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	appendT(t, s, nil)
	appendT(t, s, []byte{})
	appendT(t, s, []byte("x"))
	closeT(t, s)
	s = openT(t, dir, Options{})
	defer closeT(t, s)
	recs := peekAll(t, s)
	if len(recs) != 3 || len(recs[0].Data) != 0 || len(recs[1].Data) != 0 || string(recs[2].Data) != "x" {
		t.Fatalf("records = %+v", recs)
	}
}

func TestReopenKeepsUnackedAndAckPosition(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncBatch} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			opt := Options{SegmentSize: 512, Sync: mode}
			s := openT(t, dir, opt)
			for i := 1; i <= 50; i++ {
				appendT(t, s, payload(i))
			}
			if err := s.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			waitDurable(t, s, 20)
			if err := s.Ack(20); err != nil {
				t.Fatal(err)
			}
			closeT(t, s)
			if ack, ok, err := readAck(dir); err != nil || !ok || ack != 20 {
				t.Fatalf("ack file: %d %v %v", ack, ok, err)
			}
			if n := len(segFiles(t, dir)); n < 3 {
				t.Fatalf("%d segments; SegmentSize should have made more", n)
			}

			s = openT(t, dir, opt)
			recs := peekAll(t, s)
			if got := ids(recs); !slices.Equal(got, seq(21, 50)) {
				t.Fatalf("after reopen: %v", got)
			}
			for _, r := range recs {
				if !bytes.Equal(r.Data, payload(int(r.ID))) {
					t.Fatalf("record %d: data %q", r.ID, r.Data)
				}
			}
			rec := s.Recovery()
			if rec.Records != 30 || rec.TornBytes != 0 || len(rec.Quarantined) != 0 {
				t.Fatalf("Recovery = %+v", rec)
			}
			if id := appendT(t, s, []byte("after")); id != 51 {
				t.Fatalf("next ID after reopen = %d, want 51", id)
			}
			closeT(t, s)
		})
	}
}

// waitDurable waits until Peek can see record id (SyncBatch makes records
// visible after the background fsync).
func waitDurable(t testing.TB, s *Spool, id uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		d := s.durable
		s.mu.Unlock()
		if d >= id {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("record %d not durable after 10s (durable %d)", id, d)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestIDsStableAcrossFullDrain(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	for i := 1; i <= 5; i++ {
		appendT(t, s, payload(i))
	}
	if err := s.Ack(5); err != nil {
		t.Fatal(err)
	}
	if segs := segFiles(t, dir); len(segs) != 0 {
		t.Fatalf("segments left after a full drain: %v", segs)
	}
	if id := appendT(t, s, []byte("six")); id != 6 {
		t.Fatalf("ID after drain = %d", id)
	}
	if segs := segFiles(t, dir); !slices.Equal(segs, []string{segName(6)}) {
		t.Fatalf("segments = %v", segs)
	}
	if err := s.Ack(6); err != nil {
		t.Fatal(err)
	}
	closeT(t, s)
	s = openT(t, dir, Options{})
	defer closeT(t, s)
	if recs := peekAll(t, s); len(recs) != 0 {
		t.Fatalf("acked records came back: %v", ids(recs))
	}
	if id := appendT(t, s, []byte("seven")); id != 7 {
		t.Fatalf("ID after reopen of a drained spool = %d, want 7", id)
	}
}

func TestSegmentsDeletedWhenAcked(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentSize: 256})
	defer closeT(t, s)
	for i := 1; i <= 40; i++ {
		appendT(t, s, payload(i))
	}
	before := segFiles(t, dir)
	if len(before) < 4 {
		t.Fatalf("only %d segments", len(before))
	}
	// Ack the first record of the third segment: the first two go.
	third, _ := parseSegName(before[2])
	fourth, _ := parseSegName(before[3])
	if fourth-third < 2 {
		t.Fatalf("third segment holds %d records, want 2 or more", fourth-third)
	}
	if err := s.Ack(third); err != nil {
		t.Fatal(err)
	}
	if after := segFiles(t, dir); !slices.Equal(after, before[2:]) {
		t.Fatalf("segments after ack: %v, want %v", after, before[2:])
	}
	recs, _ := s.Peek(1)
	if len(recs) != 1 || recs[0].ID != third+1 {
		t.Fatalf("Peek after ack = %v", ids(recs))
	}
	// A record larger than SegmentSize gets a segment of its own.
	big := bytes.Repeat([]byte("b"), 1000)
	id := appendT(t, s, big)
	if segs := segFiles(t, dir); segs[len(segs)-1] != segName(id) {
		t.Fatalf("big record %d not in its own segment: %v", id, segs)
	}
}

func TestBoundsMaxBytes(t *testing.T) {
	rec := make([]byte, 100)
	fs := int64(len(rec)) + headerSize
	s := openT(t, t.TempDir(), Options{MaxBytes: 3 * fs})
	defer closeT(t, s)
	for range 3 {
		appendT(t, s, rec)
	}
	if _, err := s.Append(rec); !errors.Is(err, ErrFull) {
		t.Fatalf("4th Append: %v, want ErrFull", err)
	}
	if _, err := s.Append(nil); !errors.Is(err, ErrFull) {
		t.Fatalf("empty Append into a full spool: %v, want ErrFull", err)
	}
	if err := s.Ack(1); err != nil {
		t.Fatal(err)
	}
	appendT(t, s, rec)
	if _, err := s.Append(rec); !errors.Is(err, ErrFull) {
		t.Fatalf("Append after refill: %v, want ErrFull", err)
	}
	// Space goes by size: acking a record frees exactly its frame.
	if err := s.Ack(2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(make([]byte, 101)); !errors.Is(err, ErrFull) {
		t.Fatalf("101-byte record into 100 bytes of room: %v, want ErrFull", err)
	}
	appendT(t, s, rec)
	if n, b := s.Len(); n != 3 || b != 3*fs {
		t.Fatalf("Len = %d, %d", n, b)
	}
}

func TestBoundsMaxRecords(t *testing.T) {
	s := openT(t, t.TempDir(), Options{MaxRecords: 3})
	defer closeT(t, s)
	for range 3 {
		appendT(t, s, []byte("r"))
	}
	if _, err := s.Append([]byte("r")); !errors.Is(err, ErrFull) {
		t.Fatalf("4th Append: %v, want ErrFull", err)
	}
	if err := s.Ack(2); err != nil {
		t.Fatal(err)
	}
	appendT(t, s, []byte("r"))
	appendT(t, s, []byte("r"))
	if _, err := s.Append([]byte("r")); !errors.Is(err, ErrFull) {
		t.Fatalf("Append: %v, want ErrFull", err)
	}
}

func TestBoundsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{MaxRecords: 2})
	appendT(t, s, []byte("a"))
	appendT(t, s, []byte("b"))
	closeT(t, s)
	s = openT(t, dir, Options{MaxRecords: 2})
	defer closeT(t, s)
	if _, err := s.Append([]byte("c")); !errors.Is(err, ErrFull) {
		t.Fatalf("Append after reopen of a full spool: %v, want ErrFull", err)
	}
}

func TestTooLarge(t *testing.T) {
	s := openT(t, t.TempDir(), Options{MaxBytes: 64 << 20})
	defer closeT(t, s)
	if _, err := s.Append(make([]byte, MaxRecordSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("record over MaxRecordSize: %v", err)
	}
	id := appendT(t, s, make([]byte, MaxRecordSize))
	recs := peekAll(t, s)
	if len(recs) != 1 || recs[0].ID != id || len(recs[0].Data) != MaxRecordSize {
		t.Fatalf("MaxRecordSize record did not round-trip")
	}

	small := openT(t, t.TempDir(), Options{MaxBytes: 100})
	defer closeT(t, small)
	if _, err := small.Append(make([]byte, 100-headerSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("frame over MaxBytes: %v, want ErrTooLarge", err)
	}
	appendT(t, small, make([]byte, 100-headerSize))
}

func TestPeekByteLimit(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncBatch})
	defer closeT(t, s)
	rec := make([]byte, 4<<20)
	var last uint64
	for range 10 {
		last = appendT(t, s, rec)
	}
	waitDurable(t, s, last)
	recs, err := s.Peek(100)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != PeekByteLimit/len(rec) {
		t.Fatalf("Peek returned %d records of 4 MiB", len(recs))
	}
}

func TestAckRange(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	defer closeT(t, s)
	if err := s.Ack(1); !errors.Is(err, ErrAckRange) {
		t.Fatalf("Ack on an empty spool: %v", err)
	}
	appendT(t, s, []byte("a"))
	if err := s.Ack(2); !errors.Is(err, ErrAckRange) {
		t.Fatalf("Ack beyond the last record: %v", err)
	}
	if err := s.Ack(0); err != nil {
		t.Fatalf("Ack(0): %v", err)
	}
	if err := s.Ack(1); err != nil {
		t.Fatal(err)
	}
}

func TestClosed(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	appendT(t, s, []byte("a"))
	closeT(t, s)
	if _, err := s.Append([]byte("b")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append: %v", err)
	}
	if _, err := s.Peek(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Peek: %v", err)
	}
	if err := s.Ack(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Ack: %v", err)
	}
	if err := s.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait: %v", err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	// The lock is released.
	closeT(t, openT(t, dir, Options{}))
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	defer closeT(t, s)
	if _, err := Open(dir, Options{MaxBytes: 1 << 20}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

func TestOpenOptions(t *testing.T) {
	dir := t.TempDir()
	for _, opt := range []Options{
		{},
		{MaxBytes: -1},
		{MaxBytes: 1, MaxRecords: -1},
		{MaxBytes: 1, SegmentSize: -1},
		{MaxBytes: 1, SyncInterval: -1},
		{MaxBytes: 1, Sync: 7},
	} {
		if s, err := Open(dir, opt); err == nil {
			s.Close()
			t.Errorf("Open(%+v) succeeded", opt)
		}
	}
}

func TestOpenNotWritable(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "spool"), Options{MaxBytes: 1 << 20}); err == nil {
		t.Fatal("Open under a regular file succeeded")
	}

	// A read-only directory, with and without an existing lock file.
	for _, withLock := range []bool{false, true} {
		dir := filepath.Join(base, fmt.Sprintf("ro-%v", withLock))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if withLock {
			closeT(t, openT(t, dir, Options{}))
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		if f, err := os.Create(filepath.Join(dir, "probe")); err == nil {
			f.Close()
			t.Skip("running with privileges that ignore directory permissions")
		}
		if s, err := Open(dir, Options{MaxBytes: 1 << 20}); err == nil {
			s.Close()
			t.Fatalf("Open of a read-only directory (lock file present: %v) succeeded", withLock)
		}
	}
}

func TestWait(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncBatch} {
		t.Run(mode.String(), func(t *testing.T) {
			s := openT(t, t.TempDir(), Options{Sync: mode})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			if err := s.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait on an empty spool: %v", err)
			}
			done := make(chan error, 1)
			go func() { done <- s.Wait(context.Background()) }()
			time.Sleep(10 * time.Millisecond)
			appendT(t, s, []byte("a"))
			if err := <-done; err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if recs, _ := s.Peek(10); len(recs) != 1 {
				t.Fatalf("Peek after Wait: %d records", len(recs))
			}
			if err := s.Ack(1); err != nil {
				t.Fatal(err)
			}
			go func() { done <- s.Wait(context.Background()) }()
			time.Sleep(10 * time.Millisecond)
			closeT(t, s)
			if err := <-done; !errors.Is(err, ErrClosed) {
				t.Fatalf("Wait across Close: %v", err)
			}
		})
	}
}

func TestUnknownFilesIgnored(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"README":                       "hello",
		"0001.seg":                     "short name",
		"0000000000000000000x.seg":     "not a number",
		"00000000000000000000.seg":     "base 0 is not a valid base",
		"00000000000000000007.seg.bak": "backup",
		"ack.tmp":                      "left over by a crash",
		segName(3) + tmpSuffix:         "left over by a crash",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := openT(t, dir, Options{})
	defer closeT(t, s)
	if recs := peekAll(t, s); len(recs) != 0 {
		t.Fatalf("records from stray files: %v", ids(recs))
	}
	if _, err := os.Stat(filepath.Join(dir, "ack.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ack.tmp not removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README")); err != nil {
		t.Fatalf("unrelated file touched: %v", err)
	}
}

func TestAckFileWrittenAtomically(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	defer closeT(t, s)
	for i := 1; i <= 3; i++ {
		appendT(t, s, payload(i))
	}
	for _, id := range []uint64{1, 3} {
		if err := s.Ack(id); err != nil {
			t.Fatal(err)
		}
		// SyncAlways: persisted when Ack returns.
		if ack, ok, err := readAck(dir); err != nil || !ok || ack != id {
			t.Fatalf("after Ack(%d): ack file says %d %v %v", id, ack, ok, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ackName+tmpSuffix)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file left: %v", err)
	}
}
