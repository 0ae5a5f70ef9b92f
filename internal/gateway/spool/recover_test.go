package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// copyDir copies the regular files of src into dst, as a crash would leave
// them: no Close, files possibly being written while they are read.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted since the listing
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		out.Close()
	}
}

// dirState is the content of every file in a directory.
func dirState(t testing.TB, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

func checkRecords(t testing.TB, recs []Record, want []uint64, data func(uint64) []byte) {
	t.Helper()
	if got := ids(recs); !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	for _, r := range recs {
		if !bytes.Equal(r.Data, data(r.ID)) {
			t.Fatalf("record %d has data %q", r.ID, r.Data)
		}
	}
}

// TestCrashTruncateLastRecordAtEveryOffset cuts the last segment at every
// byte offset of its last record, as a crash in the middle of the write
// would, and checks that Open keeps exactly the complete records, with and
// without an ack position, with the record alone in its segment or not, and
// that the spool is usable afterwards.
func TestCrashTruncateLastRecordAtEveryOffset(t *testing.T) {
	const n = 6
	data := func(id uint64) []byte {
		if id == n {
			return bytes.Repeat([]byte{0xA5}, 120)
		}
		return payload(int(id))
	}
	for _, segSize := range []int64{1 << 20, 100} {
		src := t.TempDir()
		s := openT(t, src, Options{SegmentSize: segSize})
		for i := uint64(1); i <= n; i++ {
			appendT(t, s, data(i))
		}
		segs := segFiles(t, src)
		lastName := segs[len(segs)-1]
		crashed := t.TempDir()
		copyDir(t, src, crashed) // no Close: a crash
		closeT(t, s)
		last, err := os.ReadFile(filepath.Join(crashed, lastName))
		if err != nil {
			t.Fatal(err)
		}
		start := len(last) - int(frameSize(len(data(n))))
		files := dirState(t, crashed)
		delete(files, lockName)
		for _, ack := range []uint64{0, 2} {
			dir := t.TempDir()
			for cut := start; cut <= len(last); cut++ {
				name := fmt.Sprintf("seg%d/ack%d/cut%d", segSize, ack, cut)
				// The crashed state, in the same directory each time
				// (creating files is slow on some filesystems).
				for f := range dirState(t, dir) {
					if _, ok := files[f]; !ok && f != lockName {
						os.Remove(filepath.Join(dir, f))
					}
				}
				for f, data := range files {
					if f == lastName {
						data = data[:cut]
					}
					if err := os.WriteFile(filepath.Join(dir, f), []byte(data), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				if ack > 0 {
					if err := writeAck(dir, ack); err != nil {
						t.Fatal(err)
					}
				}
				// SyncBatch only to keep this table fast (fewer fsyncs);
				// recovery does not depend on the mode.
				s, err := Open(dir, Options{MaxBytes: 1 << 20, Sync: SyncBatch})
				if err != nil {
					t.Fatalf("%s: Open: %v", name, err)
				}
				complete := cut == len(last)
				lastID := uint64(n - 1)
				if complete {
					lastID = n
				}
				checkRecords(t, peekAll(t, s), seq(ack+1, lastID), data)
				rec := s.Recovery()
				if wantTorn := int64(cut - start); !complete && (rec.TornBytes != wantTorn || (wantTorn > 0 && rec.TornFile != lastName)) {
					t.Fatalf("%s: Recovery = %+v, want %d torn bytes", name, rec, wantTorn)
				}
				if complete && rec.TornBytes != 0 {
					t.Fatalf("%s: Recovery = %+v on an intact file", name, rec)
				}
				if fi, err := os.Stat(filepath.Join(dir, lastName)); !complete && start > 0 && (err != nil || fi.Size() != int64(start)) {
					t.Fatalf("%s: torn tail not cut off the file: %v %v", name, fi, err)
				}
				if (cut-start)%11 != 0 && cut-start != headerSize && cut < len(last)-1 {
					// The rest is slow (a new segment, fsyncs): every 11th
					// offset and the boundaries are enough.
					closeT(t, s)
					continue
				}
				// Usable: the torn record's ID was never handed out (the
				// write had not returned), so it is the next one.
				id, err := s.Append([]byte("after"))
				if err != nil || id != lastID+1 {
					t.Fatalf("%s: Append after recovery = %d, %v", name, id, err)
				}
				closeT(t, s)
				s = openT(t, dir, Options{Sync: SyncBatch})
				recs := peekAll(t, s)
				if len(recs) == 0 || recs[len(recs)-1].ID != id || string(recs[len(recs)-1].Data) != "after" || len(recs) != int(id-ack) {
					t.Fatalf("%s: after reopen: %v", name, ids(recs))
				}
				if s.Recovery().TornBytes != 0 {
					t.Fatalf("%s: second Open found a torn tail again", name)
				}
				closeT(t, s)
			}
		}
	}
}

// TestCrashTornTailShapes: what a crash leaves after the last complete
// record other than a clean cut (zeros from a file extended before its data
// reached the disk, garbage, a header without its payload) is cut off.
func TestCrashTornTailShapes(t *testing.T) {
	src := t.TempDir()
	s := openT(t, src, Options{})
	for i := 1; i <= 5; i++ {
		appendT(t, s, payload(i))
	}
	closeT(t, s)
	seg, err := os.ReadFile(filepath.Join(src, segName(1)))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 3000)
	for i := range garbage {
		garbage[i] = byte(r.Uint32())
	}
	frame6 := encodeFrame(make([]byte, 1000), 6, bytes.Repeat([]byte("z"), 500))
	zeroed := slices.Clone(frame6)
	clear(zeroed[200:])
	for name, tail := range map[string][]byte{
		"zeros-4k":         make([]byte, 4096),
		"zeros-1":          {0},
		"garbage":          garbage,
		"header-only":      frame6[:headerSize],
		"payload-zeroed":   zeroed,
		"frame-then-zeros": append(slices.Clone(frame6[:300]), make([]byte, 4096)...),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, segName(1)), append(slices.Clone(seg), tail...), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir, Options{MaxBytes: 1 << 20})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer closeT(t, s)
			checkRecords(t, peekAll(t, s), seq(1, 5), func(id uint64) []byte { return payload(int(id)) })
			if got := s.Recovery().TornBytes; got != int64(len(tail)) {
				t.Fatalf("TornBytes = %d, want %d", got, len(tail))
			}
		})
	}
}

// TestCrashEmptyLastSegment: a crash right after a new segment file was
// created leaves it empty.
func TestCrashEmptyLastSegment(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	for i := 1; i <= 3; i++ {
		appendT(t, s, payload(i))
	}
	closeT(t, s)
	if err := os.WriteFile(filepath.Join(dir, segName(4)), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{})
	defer closeT(t, s)
	checkRecords(t, peekAll(t, s), seq(1, 3), func(id uint64) []byte { return payload(int(id)) })
	if id := appendT(t, s, []byte("four")); id != 4 {
		t.Fatalf("next ID = %d", id)
	}
}

// TestCrashCopyMidStream copies the directory again and again while
// producers append and a consumer acknowledges, as a crash at that moment
// would leave it, and checks every copy: it opens, its records are in order
// with the data that was appended under their IDs, every record whose
// Append had returned before the copy started and that was not acknowledged
// is there, and nothing acknowledged before the copy started comes back.
func TestCrashCopyMidStream(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncBatch} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, Options{MaxBytes: 1 << 20, SegmentSize: 4096, Sync: mode, SyncInterval: time.Millisecond})
			var (
				mu       sync.Mutex
				appended = map[uint64][]byte{}
				// ackCalled is set before Ack is called, acked after it
				// returned: an Ack in flight during a copy may or may not
				// be in it.
				ackCalled, acked atomic.Uint64
				stop             = make(chan struct{})
				wg               sync.WaitGroup
			)
			for p := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := 0; ; k++ {
						select {
						case <-stop:
							return
						default:
						}
						d := []byte(fmt.Sprintf("p%d-%d-%s", p, k, bytes.Repeat([]byte("y"), k%200)))
						id, err := s.Append(d)
						if errors.Is(err, ErrFull) {
							time.Sleep(100 * time.Microsecond)
							continue
						}
						if err != nil {
							t.Errorf("Append: %v", err)
							return
						}
						mu.Lock()
						appended[id] = d
						mu.Unlock()
					}
				}()
			}
			wg.Add(1)
			go func() { // a slow consumer
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					case <-time.After(3 * time.Millisecond):
					}
					recs, err := s.Peek(50)
					if err != nil {
						t.Errorf("Peek: %v", err)
						return
					}
					if len(recs) > 0 {
						ackCalled.Store(recs[len(recs)-1].ID)
						if err := s.Ack(recs[len(recs)-1].ID); err != nil {
							t.Errorf("Ack: %v", err)
							return
						}
						acked.Store(recs[len(recs)-1].ID)
					}
				}
			}()

			type snapshot struct {
				dir          string
				returned     []uint64
				ackedAtStart uint64
				ackedAtEnd   uint64
			}
			var snaps []snapshot
			for i := range 15 {
				time.Sleep(3 * time.Millisecond)
				var sn snapshot
				mu.Lock()
				for id := range appended {
					sn.returned = append(sn.returned, id)
				}
				mu.Unlock()
				sn.ackedAtStart = acked.Load()
				sn.dir = filepath.Join(t.TempDir(), fmt.Sprint(i))
				copyDir(t, dir, sn.dir)
				sn.ackedAtEnd = ackCalled.Load()
				snaps = append(snaps, sn)
			}
			close(stop)
			wg.Wait()
			closeT(t, s)

			for i, sn := range snaps {
				c, err := Open(sn.dir, Options{MaxBytes: 1 << 30})
				if err != nil {
					t.Fatalf("copy %d: Open: %v", i, err)
				}
				recs := peekAll(t, c)
				present := map[uint64]bool{}
				for j, r := range recs {
					if j > 0 && r.ID <= recs[j-1].ID {
						t.Fatalf("copy %d: IDs out of order: %d after %d", i, r.ID, recs[j-1].ID)
					}
					if want, ok := appended[r.ID]; !ok || !bytes.Equal(r.Data, want) {
						t.Fatalf("copy %d: record %d has data %q, appended %q", i, r.ID, r.Data, want)
					}
					present[r.ID] = true
					// Acks are persisted before Ack returns only with
					// SyncAlways; with SyncBatch a process crash loses no
					// data but can forget the acks of the last interval.
					if mode == SyncAlways && r.ID <= sn.ackedAtStart {
						t.Fatalf("copy %d: record %d came back, acknowledged %d before the copy", i, r.ID, sn.ackedAtStart)
					}
				}
				for _, id := range sn.returned {
					if id > sn.ackedAtEnd && !present[id] {
						t.Fatalf("copy %d: record %d lost (Append had returned before the copy; acked %d)", i, id, sn.ackedAtEnd)
					}
				}
				if len(recs) > 0 {
					if id, err := c.Append([]byte("x")); err != nil || id <= recs[len(recs)-1].ID {
						t.Fatalf("copy %d: Append after recovery = %d, %v", i, id, err)
					}
				}
				closeT(t, c)
			}
		})
	}
}

// corruptFixture makes 12 records of 50 bytes (frames of 66) in three
// segments of four: IDs 1-4, 5-8, 9-12.
func corruptFixture(t *testing.T) (dir string, data func(uint64) []byte) {
	t.Helper()
	data = func(id uint64) []byte { return bytes.Repeat([]byte{byte('a' + id)}, 50) }
	dir = t.TempDir()
	s := openT(t, dir, Options{SegmentSize: 300})
	for i := uint64(1); i <= 12; i++ {
		appendT(t, s, data(i))
	}
	closeT(t, s)
	if got := segFiles(t, dir); !slices.Equal(got, []string{segName(1), segName(5), segName(9)}) {
		t.Fatalf("fixture segments: %v", got)
	}
	return dir, data
}

// flip inverts one bit of a file.
func flip(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x10
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// openCorrupt checks that Open fails with a *CorruptionError naming file
// and offset and leaves the directory as it was.
func openCorrupt(t *testing.T, dir, file string, off int64) {
	t.Helper()
	before := dirState(t, dir)
	s, err := Open(dir, Options{MaxBytes: 1 << 20})
	if err == nil {
		s.Close()
		t.Fatal("Open of a corrupt spool succeeded")
	}
	var ce *CorruptionError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("Open: %v, want a *CorruptionError", err)
	}
	if len(ce.Problems) != 1 || ce.Problems[0].File != file || ce.Problems[0].Offset != off {
		t.Fatalf("Problems = %+v, want %s at %d", ce.Problems, file, off)
	}
	after := dirState(t, dir)
	delete(before, lockName)
	delete(after, lockName)
	if len(before) != len(after) {
		t.Fatalf("Open changed the directory: %v -> %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("Open changed %s", k)
		}
	}
}

// TestCorruptOlderSegment: a bit flip in the middle of a segment that is
// not the last one fails Open; with QuarantineCorrupt the rest of that
// segment is moved aside and every other record is delivered.
func TestCorruptOlderSegment(t *testing.T) {
	dir, data := corruptFixture(t)
	seg := filepath.Join(dir, segName(5))
	orig, _ := os.ReadFile(seg)
	flip(t, seg, 66+headerSize+10) // payload of record 6
	damaged, _ := os.ReadFile(seg)
	openCorrupt(t, dir, segName(5), 66)

	s := openT(t, dir, Options{QuarantineCorrupt: true})
	checkRecords(t, peekAll(t, s), append(seq(1, 5), seq(9, 12)...), data)
	q := s.Recovery().Quarantined
	if len(q) != 1 || q[0].File != segName(5) || q[0].Offset != 66 || q[0].QuarantinedAs != segName(5)+corruptSuffix {
		t.Fatalf("Quarantined = %+v", q)
	}
	kept, err := os.ReadFile(filepath.Join(dir, q[0].QuarantinedAs))
	if err != nil || !bytes.Equal(kept, damaged) {
		t.Fatalf("quarantined copy differs from the damaged file: %v", err)
	}
	if now, _ := os.ReadFile(seg); !bytes.Equal(now, orig[:66]) {
		t.Fatalf("segment not cut back to its valid prefix: %d bytes", len(now))
	}
	if id := appendT(t, s, []byte("next")); id != 13 {
		t.Fatalf("next ID = %d, want 13", id)
	}
	closeT(t, s)

	// Repaired: a plain Open works and finds the same.
	s = openT(t, dir, Options{})
	defer closeT(t, s)
	if got := ids(peekAll(t, s)); !slices.Equal(got, append(append(seq(1, 5), seq(9, 12)...), 13)) {
		t.Fatalf("after repair: %v", got)
	}
}

// TestCorruptLastSegmentMiddle: damage in the last segment with valid
// records after it is corruption, not a torn write, including damage to a
// length field (the search for a later record must not trust it).
func TestCorruptLastSegmentMiddle(t *testing.T) {
	for name, off := range map[string]int64{
		"payload": 66 + headerSize + 3, // record 10
		"length":  66 + 1,              // record 10's length: 50 -> 50^0x10<<8
		"crc":     66 + 4,
		"id":      66 + 8,
	} {
		t.Run(name, func(t *testing.T) {
			dir, data := corruptFixture(t)
			flip(t, filepath.Join(dir, segName(9)), off)
			openCorrupt(t, dir, segName(9), 66)
			s := openT(t, dir, Options{QuarantineCorrupt: true})
			defer closeT(t, s)
			checkRecords(t, peekAll(t, s), seq(1, 9), data)
			id := appendT(t, s, []byte("next"))
			if id <= 12 {
				t.Fatalf("next ID %d reuses a quarantined ID", id)
			}
		})
	}
}

// TestCorruptFinalRecordIsTorn: damage to the very last record cannot be
// told from a torn write; it is cut off and reported as torn.
func TestCorruptFinalRecordIsTorn(t *testing.T) {
	dir, data := corruptFixture(t)
	flip(t, filepath.Join(dir, segName(9)), 3*66+headerSize+20)
	s := openT(t, dir, Options{})
	defer closeT(t, s)
	checkRecords(t, peekAll(t, s), seq(1, 11), data)
	if rec := s.Recovery(); rec.TornBytes != 66 || rec.TornFile != segName(9) {
		t.Fatalf("Recovery = %+v", rec)
	}
}

// TestCorruptAckFile: an unreadable ack file fails Open; with
// QuarantineCorrupt everything on disk is delivered again (duplicates, not
// loss).
func TestCorruptAckFile(t *testing.T) {
	dir, data := corruptFixture(t)
	s := openT(t, dir, Options{})
	if err := s.Ack(6); err != nil { // deletes segment 1
		t.Fatal(err)
	}
	closeT(t, s)
	flip(t, filepath.Join(dir, ackName), 5)
	openCorrupt(t, dir, ackName, 0)
	s = openT(t, dir, Options{QuarantineCorrupt: true})
	defer closeT(t, s)
	checkRecords(t, peekAll(t, s), seq(5, 12), data)
	if _, err := os.Stat(filepath.Join(dir, ackName+corruptSuffix)); err != nil {
		t.Fatalf("ack file not quarantined: %v", err)
	}
}

// TestCorruptOverlappingSegments: a segment named with an ID inside the
// previous one is corrupt.
func TestCorruptOverlappingSegments(t *testing.T) {
	dir := t.TempDir()
	var seg1, seg3 []byte
	for id := uint64(1); id <= 4; id++ {
		seg1 = append(seg1, encodeFrame(make([]byte, 100), id, payload(int(id)))...)
	}
	for id := uint64(3); id <= 5; id++ {
		seg3 = append(seg3, encodeFrame(make([]byte, 100), id, payload(int(id)))...)
	}
	os.WriteFile(filepath.Join(dir, segName(1)), seg1, 0o600)
	os.WriteFile(filepath.Join(dir, segName(3)), seg3, 0o600)
	openCorrupt(t, dir, segName(3), 0)
	s := openT(t, dir, Options{QuarantineCorrupt: true})
	defer closeT(t, s)
	checkRecords(t, peekAll(t, s), seq(1, 4), func(id uint64) []byte { return payload(int(id)) })
	if id := appendT(t, s, nil); id <= 5 {
		t.Fatalf("next ID %d reuses a quarantined ID", id)
	}
}

// TestCorruptAfterOpen: damage that appears while the spool is open is
// reported by Peek, after the records before it have been handed out.
func TestCorruptAfterOpen(t *testing.T) {
	dir, data := corruptFixture(t)
	s := openT(t, dir, Options{})
	defer closeT(t, s)
	flip(t, filepath.Join(dir, segName(1)), 66+headerSize) // record 2
	recs, err := s.Peek(10)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, recs, seq(1, 1), data)
	if err := s.Ack(1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Peek(10); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Peek over damage: %v, want ErrCorrupt", err)
	}
}
