package spool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// segScan is what Open learns about one segment file.
type segScan struct {
	name  string
	base  uint64
	size  int64  // file size
	valid int64  // length of the prefix made of valid, consecutive records
	count int    // records in that prefix
	bad   string // why the bytes at valid are not a record ("" when valid == size)

	// Records with an ID above the ack position.
	headOff  int64 // offset of the first of them
	unacked  int
	unackedB int64
}

func (sc *segScan) lastID() uint64 { return sc.base + uint64(sc.count) - 1 }

// scanSegment reads a segment from the start and stops at the first byte
// that is not the start of a valid record with the next expected ID.
func scanSegment(br *bufio.Reader, f *os.File, name string, base, ack uint64, buf []byte) (segScan, []byte, error) {
	sc := segScan{name: name, base: base, headOff: -1}
	fi, err := f.Stat()
	if err != nil {
		return sc, buf, err
	}
	sc.size = fi.Size()
	br.Reset(io.NewSectionReader(f, 0, sc.size))
	var hb [headerSize]byte
	off, id := int64(0), base
	for off < sc.size {
		if sc.size-off < headerSize {
			sc.bad = "truncated header"
			break
		}
		if _, err := io.ReadFull(br, hb[:]); err != nil {
			return sc, buf, err
		}
		h := parseHeader(hb[:])
		if h.id != id {
			sc.bad = fmt.Sprintf("record ID %d where %d was expected", h.id, id)
			break
		}
		if h.n > MaxRecordSize {
			sc.bad = fmt.Sprintf("record length %d over the limit", h.n)
			break
		}
		if sc.size-off-headerSize < int64(h.n) {
			sc.bad = "truncated record"
			break
		}
		if cap(buf) < int(h.n) {
			buf = make([]byte, h.n)
		}
		p := buf[:h.n]
		if _, err := io.ReadFull(br, p); err != nil {
			return sc, buf, err
		}
		if checksum(hb[:], p) != h.crc {
			sc.bad = "checksum mismatch"
			break
		}
		fs := frameSize(len(p))
		if id > ack {
			if sc.unacked == 0 {
				sc.headOff = off
			}
			sc.unacked++
			sc.unackedB += fs
		}
		off += fs
		id++
	}
	sc.valid, sc.count = off, int(id-base)
	return sc, buf, nil
}

// laterFrame reports whether a valid record starts anywhere after offset bad
// in a segment whose record at bad should have had ID want. Within a segment
// IDs are consecutive and frames are at least headerSize long, so a record
// at offset o can only have an ID in [want, want+(o-bad)/headerSize]; that
// filter keeps the search cheap. It is how Open tells a torn tail (nothing
// valid after the damage: the write never completed) from damage in the
// middle of written data. The checksum work is bounded; past the bound the
// answer is true (damage, not provably a torn tail), the safe side.
func laterFrame(f io.ReaderAt, bad, size int64, want uint64) (bool, error) {
	const win = 64 << 10
	budget := 2*(size-bad) + 1<<20
	buf := make([]byte, win+headerSize)
	var payload []byte
	for start := bad + 1; start+headerSize <= size; start += win {
		b := buf[:min(win+headerSize-1, size-start)]
		if _, err := f.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		for i := 0; i < win && i+headerSize <= len(b); i++ {
			o := start + int64(i)
			h := parseHeader(b[i:])
			if h.n > MaxRecordSize || o+headerSize+int64(h.n) > size {
				continue
			}
			if h.id < want || h.id > want+uint64((o-bad)/headerSize) {
				continue
			}
			if budget -= frameSize(int(h.n)); budget < 0 {
				return true, nil
			}
			if cap(payload) < int(h.n) {
				payload = make([]byte, h.n)
			}
			p := payload[:h.n]
			if _, err := f.ReadAt(p, o+headerSize); err != nil {
				return false, err
			}
			if checksum(b[i:i+headerSize], p) == h.crc {
				return true, nil
			}
		}
	}
	return false, nil
}

// recover rebuilds the spool's state from dir. See the package
// documentation for the rules; in short: invalid bytes at the end of the
// last segment with nothing valid after them are a torn write and are cut
// off; any other invalid bytes are corruption, which fails Open (nothing
// changed on disk) unless QuarantineCorrupt is set.
func (s *Spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var bases []uint64
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if strings.HasSuffix(name, tmpSuffix) {
			// An interrupted atomic write: the real file is intact.
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				return err
			}
			continue
		}
		if base, ok := parseSegName(name); ok {
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)

	var problems []Corruption
	ack, _, err := readAck(s.dir)
	if errors.Is(err, errBadAck) {
		// Without a trustworthy ack position everything still on disk is
		// delivered again: duplicates, never loss.
		problems = append(problems, Corruption{File: ackName, Reason: "ack file unreadable (bad size, magic or checksum)"})
		ack = 0
	} else if err != nil {
		return err
	}

	scans := make([]segScan, 0, len(bases))
	br := bufio.NewReaderSize(nil, 1<<20)
	var buf []byte
	prevEnd := uint64(0) // ID after the last valid record of the previous segment
	for i, base := range bases {
		name := segName(base)
		f, err := os.Open(filepath.Join(s.dir, name))
		if err != nil {
			return err
		}
		var sc segScan
		if base < prevEnd {
			fi, err := f.Stat()
			if err != nil {
				f.Close()
				return err
			}
			sc = segScan{name: name, base: base, size: fi.Size(), bad: fmt.Sprintf("segment starts at ID %d, inside the previous segment", base)}
		} else {
			sc, buf, err = scanSegment(br, f, name, base, ack, buf)
			if err != nil {
				f.Close()
				return fmt.Errorf("spool: reading %s: %w", name, err)
			}
		}
		if sc.bad != "" {
			torn := false
			if i == len(bases)-1 && base >= prevEnd {
				later, err := laterFrame(f, sc.valid, sc.size, base+uint64(sc.count))
				if err != nil {
					f.Close()
					return fmt.Errorf("spool: reading %s: %w", name, err)
				}
				torn = !later
			}
			if torn {
				s.recovery.TornFile, s.recovery.TornBytes = name, sc.size-sc.valid
			} else {
				problems = append(problems, Corruption{File: name, Offset: sc.valid, Reason: sc.bad})
			}
		}
		f.Close()
		prevEnd = max(prevEnd, base+uint64(sc.count))
		scans = append(scans, sc)
	}

	if len(problems) > 0 && !s.opt.QuarantineCorrupt {
		return &CorruptionError{Dir: s.dir, Problems: problems}
	}

	next := ack + 1
	for i := range problems {
		p := &problems[i]
		if p.File == ackName {
			p.QuarantinedAs = ackName + corruptSuffix
			if err := os.Rename(filepath.Join(s.dir, ackName), filepath.Join(s.dir, p.QuarantinedAs)); err != nil {
				return err
			}
			continue
		}
		// Keep a copy of the whole file for forensics, then cut the segment
		// back to its valid prefix. A crash in between repeats the same
		// steps at the next Open.
		p.QuarantinedAs = p.File + corruptSuffix
		if err := copyFileAtomic(filepath.Join(s.dir, p.File), s.dir, p.QuarantinedAs); err != nil {
			return err
		}
		sc := &scans[slices.IndexFunc(scans, func(sc segScan) bool { return sc.name == p.File })]
		if err := truncateFile(filepath.Join(s.dir, p.File), sc.valid); err != nil {
			return err
		}
		if sc == &scans[len(scans)-1] {
			// Never hand out again an ID that may be in the quarantined
			// bytes (in older segments, the next segment's name bounds them).
			next = max(next, sc.base+uint64(sc.count)+uint64((sc.size-sc.valid)/headerSize)+1)
		}
	}
	s.recovery.Quarantined = problems
	if s.recovery.TornBytes > 0 {
		last := scans[len(scans)-1]
		if err := truncateFile(filepath.Join(s.dir, last.name), last.valid); err != nil {
			return err
		}
	}

	// Keep the segments that hold unacknowledged records.
	removed := false
	s.durable = ack
	for _, sc := range scans {
		next = max(next, sc.base+uint64(sc.count))
		if sc.unacked == 0 {
			if err := os.Remove(filepath.Join(s.dir, sc.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			removed = true
			continue
		}
		if len(s.segs) == 0 {
			s.head = cursor{off: sc.headOff, id: max(ack+1, sc.base)}
		}
		s.segs = append(s.segs, &segment{name: sc.name, base: sc.base, count: sc.count, size: sc.valid})
		s.records += sc.unacked
		s.bytes += sc.unackedB
		s.durable = max(s.durable, sc.lastID())
	}
	if removed {
		if err := syncDir(s.dir); err != nil {
			return err
		}
	}
	// durable is the last record on disk (or the ack position): Peek and
	// Wait never look past it, so they never see an ID that does not exist.
	s.next, s.written = next, s.durable
	s.ack, s.savedAck = ack, ack
	s.recovery.Records, s.recovery.Bytes = s.records, s.bytes
	return nil
}

// truncateFile cuts a file to size and makes that durable; a file cut to
// nothing is removed.
func truncateFile(path string, size int64) error {
	if size == 0 {
		if err := os.Remove(path); err != nil {
			return err
		}
		return syncDir(filepath.Dir(path))
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
