// Package spool is a bounded, crash-safe, on-disk FIFO queue of opaque
// records: the gateway appends a request it has accepted for an upstream
// that is down, and a replayer sends the records in order once the upstream
// is back, including after a restart or a crash.
//
// # Files
//
// A spool directory holds:
//
//	00000000000000000001.seg  segments: records back to back, named after
//	                          the ID of their first record (20 digits)
//	ack                       the acknowledged position (16 bytes)
//	LOCK                      flock'ed while a Spool has the directory open
//	*.corrupt                 quarantined data (only with QuarantineCorrupt)
//
// A record is framed as: uint32 LE payload length, uint32 LE CRC-32C of
// (length ‖ ID ‖ payload), uint64 LE ID, payload; 16 bytes of framing per
// record. IDs start at 1, increase by one within a segment and never go
// down. A new segment starts when the next frame would take the current one
// past Options.SegmentSize, and at the first Append after Open. The ack file
// is "WLSA", the ack ID (uint64 LE) and a CRC-32C of those 12 bytes; it is
// replaced by write to ack.tmp, fsync, rename, fsync of the directory.
//
// # Guarantees
//
// Order: Peek returns unacknowledged records in append order, across
// segments and restarts.
//
// Durability: with SyncAlways (the default), Append returns after the
// record has been fsynced (concurrent Appends share one fsync: group
// commit), and Ack returns after the ack file has been replaced and the
// directory fsynced. With SyncBatch, Append and Ack return once the data is
// in the kernel; a background flusher fsyncs at most once per SyncInterval
// (at once when it has been idle). A process crash (kill -9, panic) loses
// nothing in either mode: the data is in the page cache. An OS crash or power
// loss in SyncBatch mode can lose the Appends and Acks of the last
// SyncInterval; the IDs of lost records may then be handed out again.
// Peek and Wait only ever expose records that are durable, so a consumer
// never sees a record, or an ID, that a crash can take back.
//
// At-least-once: a record that was appended and not acknowledged survives
// Close and reopen, and crashes (within the durability above). After a
// crash, the records delivered again although acknowledged are exactly
// those with an ID above the last persisted ack position: with SyncAlways,
// only the IDs covered by an Ack call that had not returned when the crash
// happened (an Ack that returned nil is persisted); with SyncBatch, those
// acknowledged within the last SyncInterval before an OS crash (none for a
// process crash). An Ack that returns an error changes nothing. An Append
// that returns an error other than ErrFull, ErrTooLarge or ErrClosed may
// still have reached the disk and may be delivered.
//
// Bounds: Append returns ErrFull when the unacknowledged records would
// exceed MaxRecords or their frames (payload + 16 bytes) MaxBytes; Ack frees
// the space at once. A record that can never fit (over MaxRecordSize, or a
// frame over MaxBytes) gets ErrTooLarge. Disk use is at most MaxBytes plus
// the acknowledged prefix of the oldest segment (under SegmentSize plus one
// record) plus two small files; in SyncBatch mode, plus the segments
// acknowledged since the last flush.
//
// # Recovery
//
// Open reads every segment from the start and stops at the first bytes that
// are not a valid record with the next ID. Such bytes are one of:
//
//   - a torn write: they are at the end of the last segment and no valid
//     record follows them anywhere in the file. The write never completed
//     and was never acknowledged to anyone (or was within the SyncBatch
//     window); Open cuts them off and reports them in Recovery.
//   - corruption: anything else (a bad checksum with a valid record after
//     it, damage in an older segment, which is always fsynced before the
//     next one is created, an unreadable ack file). By default Open then
//     fails with a *CorruptionError (errors.Is(err, ErrCorrupt)) naming the
//     file, offset and reason, and changes nothing on disk. With
//     Options.QuarantineCorrupt, Open copies each damaged segment whole to
//     <name>.corrupt, cuts the segment back to the records before the
//     damage, and opens; the records after the damage in that segment are
//     not delivered (they are in the .corrupt file), later segments are; an
//     unreadable ack file is renamed to ack.corrupt and everything on disk is
//     delivered again. Recovery lists what was quarantined. A caller that
//     wants to report and then carry on opens once, logs the error, and
//     opens again with QuarantineCorrupt.
//
// Damage to the final record of the last segment looks exactly like a torn
// write and is treated as one. After an OS crash in the middle of a group
// commit the kernel may have written a later record's page and not an
// earlier one's; that looks like corruption (a valid record after an invalid
// one) and needs QuarantineCorrupt. Peek checks checksums again and returns
// a *CorruptionError for damage that appears after Open.
package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// SyncMode says when appended records and acks are fsynced.
type SyncMode int

const (
	// SyncAlways fsyncs before Append and Ack return (the default).
	SyncAlways SyncMode = iota
	// SyncBatch fsyncs in the background, at most once per SyncInterval.
	SyncBatch
)

func (m SyncMode) String() string {
	switch m {
	case SyncAlways:
		return "always"
	case SyncBatch:
		return "batch"
	}
	return fmt.Sprintf("SyncMode(%d)", int(m))
}

const (
	// MaxRecordSize is the largest record Append takes (a format limit:
	// Open treats a frame announcing more as damage).
	MaxRecordSize = 16 << 20
	// DefaultSegmentSize is the segment size when Options.SegmentSize is 0.
	DefaultSegmentSize = 8 << 20
	// DefaultSyncInterval is the SyncBatch interval when
	// Options.SyncInterval is 0.
	DefaultSyncInterval = 10 * time.Millisecond
	// PeekByteLimit bounds the payload bytes one Peek returns (it returns at
	// least one record, whatever its size).
	PeekByteLimit = 32 << 20
)

var (
	// ErrFull is returned by Append when a bound would be exceeded; Ack
	// frees space.
	ErrFull = errors.New("spool is full")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("spool is closed")
	// ErrTooLarge is returned by Append for a record that can never fit.
	ErrTooLarge = errors.New("spool: record too large")
	// ErrLocked is returned by Open when another Spool (in this process or
	// another) has the directory open.
	ErrLocked = errors.New("spool: directory is locked by another spool")
	// ErrCorrupt matches a *CorruptionError.
	ErrCorrupt = errors.New("spool: corrupt data")
	// ErrAckRange is returned by Ack for an ID beyond the last record Peek
	// can return.
	ErrAckRange = errors.New("spool: ack beyond the last durable record")
)

// Options configure a spool.
type Options struct {
	// MaxBytes bounds the unacknowledged records, framing included
	// (payload + 16 bytes each). Required, > 0.
	MaxBytes int64
	// MaxRecords bounds the number of unacknowledged records (0: no bound).
	MaxRecords int
	// SegmentSize is the size at which a new segment file is started
	// (default 8 MiB). A record larger than that gets a segment of its own.
	SegmentSize int64
	// Sync is SyncAlways (default) or SyncBatch.
	Sync SyncMode
	// SyncInterval is the SyncBatch flush interval (default 10 ms).
	SyncInterval time.Duration
	// QuarantineCorrupt makes Open move corrupt data aside and open instead
	// of failing with a *CorruptionError. See the package documentation.
	QuarantineCorrupt bool
}

// Record is one spooled record. Data belongs to the caller.
type Record struct {
	ID   uint64
	Data []byte
}

// Corruption describes damaged data found in a spool directory.
type Corruption struct {
	File   string // file name in the spool directory
	Offset int64  // where the damage starts (0 for the ack file)
	Reason string
	// QuarantinedAs is the name of the copy kept aside, when quarantined.
	QuarantinedAs string
}

// CorruptionError reports corrupt data; errors.Is(err, ErrCorrupt) holds.
type CorruptionError struct {
	Dir      string
	Problems []Corruption
}

func (e *CorruptionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "spool: corrupt data in %s:", e.Dir)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s at offset %d: %s", p.File, p.Offset, p.Reason)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }

// Recovery is what Open found and repaired.
type Recovery struct {
	Records int   // unacknowledged records found
	Bytes   int64 // their size, framing included
	// TornFile and TornBytes describe the torn write cut off the end of the
	// last segment, if any.
	TornFile  string
	TornBytes int64
	// Quarantined lists the corrupt data moved aside (QuarantineCorrupt).
	Quarantined []Corruption
}

// segment is one segment file. count and size cover the whole file,
// acknowledged records included.
type segment struct {
	name  string
	base  uint64 // ID of the first record
	count int
	size  int64
	// f is open read-write for segments created by this Spool, opened
	// read-only on first read for older ones; closed when the segment is
	// deleted or the Spool closed.
	f *os.File
}

func (sg *segment) lastID() uint64 { return sg.base + uint64(sg.count) - 1 }

// cursor is a position in the segment list: segment idx (== len(segs) when
// past the last one), byte offset off. id is the ID of the record at off
// when off > 0; at offset 0 the record's ID is the segment's base.
type cursor struct {
	idx int
	off int64
	id  uint64
}

// Spool is a bounded on-disk FIFO. Append is safe for any number of
// goroutines; Peek, Ack and Wait are meant for one consumer but are safe to
// call concurrently.
type Spool struct {
	dir  string
	opt  Options
	lock *os.File

	// cmu serializes the consumer side (Peek, Ack, deleting segments,
	// Close). It is taken before mu, never while holding mu. Segment files
	// are only closed with both held, so a Peek holding cmu reads them
	// without mu.
	cmu sync.Mutex

	mu      sync.Mutex
	cond    *sync.Cond    // on mu: a sync finished, or the spool failed or closed
	notify  chan struct{} // closed and replaced when durable grows, and at Close
	segs    []*segment
	active  *segment // last of segs, taking appends; nil before the first Append after Open and after a full drain
	head    cursor   // first unacknowledged record
	next    uint64   // ID for the next Append
	written uint64   // highest ID written (or, after Open, the last record or ack)
	durable uint64   // highest ID fsynced: Peek and Wait look no further
	ack     uint64   // acknowledged, in memory
	// savedAck is the acknowledged position in the ack file; segments are
	// deleted only once all their records are at or below it.
	savedAck uint64
	records  int
	bytes    int64
	syncing  bool // a goroutine is fsyncing the active segment without mu
	closed   bool
	err      error // sticky: a failed fsync leaves the page cache in an unknown state
	wbuf     []byte

	kick        chan struct{} // SyncBatch: wake the flusher
	stop        chan struct{}
	flusherDone chan struct{}

	recovery Recovery
}

// Open opens (creating it if needed) the spool in dir and recovers its
// state; see the package documentation. It fails if dir cannot be created
// or written, if another Spool has it open (ErrLocked), and on corrupt data
// (*CorruptionError) unless opt.QuarantineCorrupt is set.
func Open(dir string, opt Options) (*Spool, error) {
	switch {
	case opt.MaxBytes <= 0:
		return nil, errors.New("spool: Options.MaxBytes must be > 0")
	case opt.MaxRecords < 0:
		return nil, errors.New("spool: Options.MaxRecords must be >= 0")
	case opt.SegmentSize < 0:
		return nil, errors.New("spool: Options.SegmentSize must be >= 0")
	case opt.SyncInterval < 0:
		return nil, errors.New("spool: Options.SyncInterval must be >= 0")
	case opt.Sync != SyncAlways && opt.Sync != SyncBatch:
		return nil, fmt.Errorf("spool: unknown sync mode %d", int(opt.Sync))
	}
	if opt.SegmentSize == 0 {
		opt.SegmentSize = DefaultSegmentSize
	}
	if opt.SyncInterval == 0 {
		opt.SyncInterval = DefaultSyncInterval
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := lockFile(lf); err != nil {
		lf.Close()
		return nil, fmt.Errorf("spool: %s: %w", dir, err)
	}
	// The lock file may predate a permission change: check that new files
	// can be made, so that an unwritable directory fails here and not at
	// the first Append.
	probe, err := os.CreateTemp(dir, "probe-*"+tmpSuffix)
	if err == nil {
		probe.Close()
		err = os.Remove(probe.Name())
	}
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("spool: directory not writable: %w", err)
	}
	s := &Spool{dir: dir, opt: opt, lock: lf, notify: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	if err := s.recover(); err != nil {
		lf.Close()
		var ce *CorruptionError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("spool: open %s: %w", dir, err)
	}
	if opt.Sync == SyncBatch {
		s.kick = make(chan struct{}, 1)
		s.stop = make(chan struct{})
		s.flusherDone = make(chan struct{})
		go s.flusher()
	}
	return s, nil
}

// Recovery reports what Open found and repaired.
func (s *Spool) Recovery() Recovery {
	r := s.recovery
	r.Quarantined = append([]Corruption(nil), r.Quarantined...)
	return r
}

// Len returns the number and size (framing included) of the records
// appended and not acknowledged, durable or not yet.
func (s *Spool) Len() (records int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records, s.bytes
}

// Append adds a record and returns its ID. With SyncAlways the record is on
// disk when Append returns nil. It returns ErrFull when a bound would be
// exceeded and ErrTooLarge when the record can never fit.
func (s *Spool) Append(data []byte) (uint64, error) {
	if len(data) > MaxRecordSize {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxRecordSize)
	}
	fs := frameSize(len(data))
	if fs > s.opt.MaxBytes {
		return 0, fmt.Errorf("%w: %d bytes with framing, spool bound %d", ErrTooLarge, fs, s.opt.MaxBytes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var a *segment
	for {
		if s.closed {
			return 0, ErrClosed
		}
		if s.err != nil {
			return 0, s.err
		}
		if s.bytes+fs > s.opt.MaxBytes || (s.opt.MaxRecords > 0 && s.records >= s.opt.MaxRecords) {
			return 0, ErrFull
		}
		a = s.active
		if a != nil && (a.count == 0 || a.size+fs <= s.opt.SegmentSize) {
			break
		}
		if s.syncing {
			// Never switch files under a running fsync.
			s.cond.Wait()
			continue
		}
		if err := s.rotate(); err != nil {
			return 0, err
		}
	}

	id := s.next
	if cap(s.wbuf) < int(fs) {
		s.wbuf = make([]byte, fs)
	}
	frame := encodeFrame(s.wbuf, id, data)
	if cap(s.wbuf) > 1<<20 {
		s.wbuf = nil // do not keep a buffer for a rare huge record
	}
	if _, err := a.f.WriteAt(frame, a.size); err != nil {
		// Disk full and the like: cut off what was written and stay usable.
		if terr := a.f.Truncate(a.size); terr != nil {
			s.fail(fmt.Errorf("spool: write %s: %w; truncate: %v", a.name, err, terr))
			return 0, s.err
		}
		return 0, fmt.Errorf("spool: write %s: %w", a.name, err)
	}
	a.size += fs
	a.count++
	s.next++
	s.written = id
	s.records++
	s.bytes += fs
	if s.opt.Sync == SyncBatch {
		s.wake()
		return id, nil
	}
	if err := s.syncTo(id); err != nil {
		return 0, err
	}
	return id, nil
}

// rotate starts a new segment; mu held, no sync running. The old segment is
// fsynced first: only the last segment can ever have a torn tail.
func (s *Spool) rotate() error {
	if a := s.active; a != nil && s.written > s.durable {
		if err := a.f.Sync(); err != nil {
			s.fail(fmt.Errorf("spool: fsync %s: %w", a.name, err))
			return s.err
		}
		s.setDurable(s.written)
	}
	name := segName(s.next)
	path := filepath.Join(s.dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("spool: %w", err)
	}
	sg := &segment{name: name, base: s.next, f: f}
	s.segs = append(s.segs, sg)
	s.active = sg
	return nil
}

// syncTo returns once record id is durable, fsyncing if nobody else is:
// group commit, one fsync covers every record written before it starts.
// mu held; released while fsyncing or waiting.
func (s *Spool) syncTo(id uint64) error {
	for s.durable < id {
		if s.err != nil {
			return s.err
		}
		if s.syncing {
			s.cond.Wait()
			continue
		}
		a, target := s.active, s.written
		if a == nil || a.f == nil {
			// Everything written is in fsynced segments.
			s.setDurable(target)
			continue
		}
		s.syncing = true
		s.mu.Unlock()
		err := a.f.Sync()
		s.mu.Lock()
		s.syncing = false
		s.cond.Broadcast()
		if err != nil {
			s.fail(fmt.Errorf("spool: fsync %s: %w", a.name, err))
			return s.err
		}
		s.setDurable(target)
	}
	return nil
}

func (s *Spool) setDurable(id uint64) {
	if id > s.durable {
		s.durable = id
		s.signal()
	}
}

// signal wakes Wait callers; mu held.
func (s *Spool) signal() {
	close(s.notify)
	s.notify = make(chan struct{})
}

// fail makes err sticky: Append and Ack return it from now on. mu held.
func (s *Spool) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.cond.Broadcast()
}

func (s *Spool) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Wait blocks until Peek has a record to return, ctx is done (ctx.Err()) or
// the spool is closed (ErrClosed).
func (s *Spool) Wait(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		if s.durable > s.ack {
			s.mu.Unlock()
			return nil
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// segView is a segment's extent as of a snapshot.
type segView struct {
	sg   *segment
	base uint64
	size int64
}

// view snapshots the segments from index from; mu held.
func (s *Spool) view(from int) []segView {
	if from >= len(s.segs) {
		return nil
	}
	v := make([]segView, 0, len(s.segs)-from)
	for _, sg := range s.segs[from:] {
		v = append(v, segView{sg, sg.base, sg.size})
	}
	return v
}

// file returns sg's open file, opening it read-only if needed; cmu held.
func (s *Spool) file(sg *segment) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sg.f == nil {
		f, err := os.Open(filepath.Join(s.dir, sg.name))
		if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		sg.f = f
	}
	return sg.f, nil
}

// readFrame reads the record that should be at off with ID want, checking
// its framing, and its checksum when the payload is read.
func (s *Spool) readFrame(sg *segment, off int64, want uint64, payload bool) (uint32, []byte, error) {
	f, err := s.file(sg)
	if err != nil {
		return 0, nil, err
	}
	corrupt := func(reason string) error {
		return &CorruptionError{Dir: s.dir, Problems: []Corruption{{File: sg.name, Offset: off, Reason: reason}}}
	}
	var hb [headerSize]byte
	if _, err := f.ReadAt(hb[:], off); err != nil {
		return 0, nil, fmt.Errorf("spool: read %s: %w", sg.name, err)
	}
	h := parseHeader(hb[:])
	if h.id != want || h.n > MaxRecordSize {
		return 0, nil, corrupt(fmt.Sprintf("record header changed on disk (ID %d, want %d; length %d)", h.id, want, h.n))
	}
	if !payload {
		return h.n, nil, nil
	}
	p := make([]byte, h.n)
	if _, err := f.ReadAt(p, off+headerSize); err != nil {
		return 0, nil, fmt.Errorf("spool: read %s: %w", sg.name, err)
	}
	if checksum(hb[:], p) != h.crc {
		return 0, nil, corrupt("checksum mismatch on read")
	}
	return h.n, p, nil
}

// Peek returns up to max of the oldest unacknowledged records, in order,
// without removing them; fewer (at least one, if any) when their payloads
// add up to PeekByteLimit. It returns only durable records, none when there
// are none.
func (s *Spool) Peek(max int) ([]Record, error) {
	if max <= 0 {
		return nil, nil
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	c, limit, view := s.head, s.durable, s.view(s.head.idx)
	s.mu.Unlock()

	var out []Record
	total := 0
	i, off, id := 0, c.off, c.id
	for len(out) < max && total < PeekByteLimit && i < len(view) {
		v := view[i]
		if off >= v.size {
			i, off = i+1, 0
			continue
		}
		if off == 0 {
			id = v.base
		}
		if id > limit {
			break
		}
		n, p, err := s.readFrame(v.sg, off, id, true)
		if err != nil {
			if len(out) > 0 {
				break // hand out what precedes the damage; the next Peek reports it
			}
			return nil, err
		}
		out = append(out, Record{ID: id, Data: p})
		total += int(n)
		off += frameSize(int(n))
		id++
	}
	return out, nil
}

// Ack acknowledges every record up to and including id; acknowledged
// records are never returned again, also after a restart (see the package
// documentation for the crash window). Acknowledging an ID at or below the
// current position does nothing; above the last record Peek can return is
// ErrAckRange. Segments whose records are all acknowledged are deleted once
// the position is persisted.
func (s *Spool) Ack(id uint64) error {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if id <= s.ack {
		s.mu.Unlock()
		return nil
	}
	if id > s.durable {
		durable := s.durable
		s.mu.Unlock()
		return fmt.Errorf("%w: ack %d, last durable record %d", ErrAckRange, id, durable)
	}
	c, view := s.head, s.view(s.head.idx)
	s.mu.Unlock()

	// Walk the frame headers from the head to the first record after id.
	n, nb := 0, int64(0)
	i, off, rid := 0, c.off, c.id
	for i < len(view) {
		v := view[i]
		if off >= v.size {
			if i == len(view)-1 {
				break // stay at the end of the last segment: it may grow
			}
			i, off = i+1, 0
			continue
		}
		if off == 0 {
			rid = v.base
		}
		if rid > id {
			break
		}
		ln, _, err := s.readFrame(v.sg, off, rid, false)
		if err != nil {
			return err
		}
		off += frameSize(int(ln))
		nb += frameSize(int(ln))
		n++
		rid++
	}
	head := cursor{idx: c.idx + i, off: off, id: rid}

	if s.opt.Sync == SyncAlways {
		if err := writeAck(s.dir, id); err != nil {
			return fmt.Errorf("spool: persist ack: %w", err)
		}
	}
	s.mu.Lock()
	s.head, s.ack = head, id
	s.records -= n
	s.bytes -= nb
	if s.opt.Sync == SyncAlways {
		s.savedAck = id
	}
	s.mu.Unlock()
	if s.opt.Sync == SyncAlways {
		s.gc()
	} else {
		s.wake()
	}
	return nil
}

// gc deletes the segments whose records are all at or below the persisted
// ack position; cmu held. The active segment goes too once drained (the
// next Append starts a new one), unless an fsync is running on it.
func (s *Spool) gc() {
	s.mu.Lock()
	k := 0
	for k < len(s.segs) {
		sg := s.segs[k]
		if sg.count == 0 || sg.lastID() > s.savedAck {
			break
		}
		if sg == s.active {
			if s.syncing {
				break
			}
			s.active = nil
		}
		k++
	}
	dead := s.segs[:k:k]
	if k > 0 {
		s.segs = append([]*segment(nil), s.segs[k:]...)
		if s.head.idx -= k; s.head.idx < 0 {
			s.head = cursor{}
		}
	}
	s.mu.Unlock()
	// Deletions need no directory fsync: a segment that comes back after a
	// crash is at or below the persisted ack and is deleted by Open.
	for _, sg := range dead {
		if sg.f != nil {
			sg.f.Close()
		}
		_ = os.Remove(filepath.Join(s.dir, sg.name))
	}
}

// flusher is the SyncBatch background loop: flush when woken, then rest
// SyncInterval.
func (s *Spool) flusher() {
	defer close(s.flusherDone)
	t := time.NewTimer(s.opt.SyncInterval)
	t.Stop()
	for {
		select {
		case <-s.kick:
		case <-s.stop:
			return
		}
		if !s.flush() {
			s.wake() // retry after the interval
		}
		t.Reset(s.opt.SyncInterval)
		select {
		case <-t.C:
		case <-s.stop:
			t.Stop()
			return
		}
	}
}

// flush fsyncs the written records and persists the ack position; it
// reports whether the ack position could be persisted.
func (s *Spool) flush() bool {
	s.mu.Lock()
	if s.err == nil && !s.closed {
		_ = s.syncTo(s.written) // a failure is sticky and returned by Append
	}
	s.mu.Unlock()
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.persistAck() == nil
}

// persistAck writes the in-memory ack position if it moved, then deletes
// the segments it covers; cmu held.
func (s *Spool) persistAck() error {
	s.mu.Lock()
	ack, saved := s.ack, s.savedAck
	s.mu.Unlock()
	if ack <= saved {
		return nil
	}
	if err := writeAck(s.dir, ack); err != nil {
		return fmt.Errorf("spool: persist ack: %w", err)
	}
	s.mu.Lock()
	s.savedAck = ack
	s.mu.Unlock()
	s.gc()
	return nil
}

// Close flushes (fsync of the records, the ack position), deletes the
// acknowledged segments, closes the files and releases the directory.
// Appends waiting for their fsync complete first. Append, Peek, Ack, Wait
// and Close return ErrClosed afterwards.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.signal()
	s.cond.Broadcast()
	s.mu.Unlock()
	if s.stop != nil {
		close(s.stop)
		<-s.flusherDone
	}

	s.cmu.Lock()
	defer s.cmu.Unlock()
	var errs []error
	s.mu.Lock()
	for s.syncing {
		s.cond.Wait()
	}
	if s.err == nil && s.written > s.durable && s.active != nil {
		if err := s.active.f.Sync(); err != nil {
			s.fail(fmt.Errorf("spool: fsync %s: %w", s.active.name, err))
		} else {
			s.setDurable(s.written)
		}
	}
	s.cond.Broadcast()
	s.mu.Unlock()

	if err := s.persistAck(); err != nil {
		errs = append(errs, err)
	}
	s.mu.Lock()
	for _, sg := range s.segs {
		if sg.f != nil {
			if err := sg.f.Close(); err != nil {
				errs = append(errs, err)
			}
			sg.f = nil
		}
	}
	s.active = nil
	if s.err != nil {
		errs = append(errs, s.err)
	}
	s.mu.Unlock()
	if err := s.lock.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
