package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// validPrefix is an independent reading of the segment format: the records
// with valid framing from the start of a segment whose first ID is 1.
func validPrefix(b []byte) []Record {
	var out []Record
	tab := crc32.MakeTable(crc32.Castagnoli)
	for want := uint64(1); len(b) >= 16; want++ {
		n := binary.LittleEndian.Uint32(b)
		sum := binary.LittleEndian.Uint32(b[4:])
		id := binary.LittleEndian.Uint64(b[8:])
		if id != want || n > 16<<20 || uint64(len(b)-16) < uint64(n) {
			break
		}
		covered := append(append([]byte{}, b[:4]...), b[8:16+n]...)
		if crc32.Checksum(covered, tab) != sum {
			break
		}
		out = append(out, Record{ID: id, Data: b[16 : 16+n]})
		b = b[16+n:]
	}
	return out
}

// FuzzRecover writes arbitrary bytes as a segment file and opens the spool:
// Open never panics; it either opens with exactly the records that have
// valid framing from the start, or (when it cannot call the bad bytes a
// torn tail) fails with ErrCorrupt and changes nothing, and then opens
// with QuarantineCorrupt with exactly those records. The spool is usable
// afterwards and never reuses an ID.
func FuzzRecover(f *testing.F) {
	var valid []byte
	for id := uint64(1); id <= 4; id++ {
		valid = append(valid, encodeFrame(make([]byte, 200), id, bytes.Repeat([]byte{byte(id)}, int(id*13)))...)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-7])
	f.Add(valid[:20])
	flipped := bytes.Clone(valid)
	flipped[16+13+16+3] ^= 1
	f.Add(flipped)
	f.Add(append(bytes.Clone(valid), make([]byte, 64)...))
	f.Add([]byte{})
	f.Add(make([]byte, 33))
	f.Add([]byte("not a segment at all, just some text long enough"))

	f.Fuzz(func(t *testing.T, seg []byte) {
		want := validPrefix(seg)
		dir := t.TempDir()
		path := filepath.Join(dir, segName(1))
		if err := os.WriteFile(path, seg, 0o600); err != nil {
			t.Fatal(err)
		}
		opt := Options{MaxBytes: 1 << 30}
		s, err := Open(dir, opt)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v", err)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, seg) {
				t.Fatal("failed Open changed the segment")
			}
			opt.QuarantineCorrupt = true
			if s, err = Open(dir, opt); err != nil {
				t.Fatalf("Open with QuarantineCorrupt: %v", err)
			}
		}
		got, err := s.Peek(1 << 30)
		if err != nil {
			t.Fatalf("Peek: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d records, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID || !bytes.Equal(got[i].Data, want[i].Data) {
				t.Fatalf("record %d: got %d %q, want %d %q", i, got[i].ID, got[i].Data, want[i].ID, want[i].Data)
			}
		}
		id, err := s.Append([]byte("after"))
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if id <= uint64(len(want)) {
			t.Fatalf("Append got ID %d, %d records before it", id, len(want))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s, err = Open(dir, Options{MaxBytes: 1 << 30})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer s.Close()
		again, err := s.Peek(1 << 30)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(want)+1 || again[len(again)-1].ID != id {
			t.Fatalf("after reopen: %v, want %d records then %d", ids(again), len(want), id)
		}
	})
}
