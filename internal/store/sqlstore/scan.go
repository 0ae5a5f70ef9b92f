package sqlstore

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weaklink/weaklink/internal/store"
)

// ScanConn is a read-only connection of a driver's own, outside
// database/sql (Dialect.OpenScan), for scans of millions of rows: values
// are read where the driver holds them, without a conversion or a copy
// per column. It is not safe for concurrent use.
type ScanConn interface {
	// Exec runs SQL that returns no rows: BEGIN, ROLLBACK.
	Exec(query string) error
	// Prepare compiles a query with ? parameters.
	Prepare(query string) (ScanStmt, error)
	// Close closes the connection, ending its transaction, and the
	// statements still open.
	Close() error
}

// ScanStmt is a prepared query of a ScanConn.
type ScanStmt interface {
	// Start runs the query from the beginning with args (strings and
	// int64s), ending the run before.
	Start(args ...any) error
	// Next moves to the next row; false after the last.
	Next() (bool, error)
	// Kind is the type of column i's value in this row. Read it before
	// Text, which may convert the value.
	Kind(i int) ScanKind
	// Text is column i's value as text, nil for NULL, valid until the
	// next call of Next or Start.
	Text(i int) []byte
	// Int is column i's value as an integer.
	Int(i int) int64
	// Close releases the statement.
	Close() error
}

// ScanKind is the type of a value a ScanStmt reads.
type ScanKind uint8

// The kinds of values, SQLite's storage classes.
const (
	ScanNull ScanKind = iota
	ScanInt
	ScanFloat
	ScanText
	ScanBlob
)

// A ledger scan on ScanConns reads one vendor's rows, in key order, as a
// series of chunks, subject ranges of about scanChunkRows rows each. Each
// of a few connections reads every n-th chunk, all of them in one
// snapshot, so the database's work, most of a scan's, is spread over as
// many cores; the caller's goroutine takes the chunks' rows in order, and
// memory holds about a chunk's rows per connection, whatever the size of
// the ledger.
//
// Where a chunk ends is found when it starts: the subject scanChunkRows
// index entries further (the index alone, cheap beside reading the rows),
// or the next subject when one subject has more rows than that. The
// connection reading the chunk passes it on to the next connection, which
// starts its chunk there while this one reads its own.
var (
	scanChunkRows = 16384
	scanBatchRows = 1024
	// maxScanConns bounds the connections of one scan.
	maxScanConns = 4
)

// scanChunks runs the ledger scan of one vendor on Dialect.OpenScan's
// connections. ok is false, and nothing has been read, when they cannot
// be had: database/sql reads the ledger then.
func (s *DB) scanChunks(ctx context.Context, vendor string, f store.LedgerFilter, fn func(store.LedgerEntry) error) (ok bool, err error) {
	n := min(runtime.GOMAXPROCS(0), maxScanConns)
	var conns []ScanConn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range n {
		c, err := s.d.OpenScan(ctx)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	if len(conns) == 0 {
		return false, nil
	}
	if n, err = beginSnapshot(conns); err != nil {
		return false, nil
	}
	q := s.chunkQueries(vendor, f)

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		failOnce sync.Once
		werr     error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		failOnce.Do(func() { werr = err })
		cancel()
	}
	maxBatches := scanChunkRows/scanBatchRows + 2
	workers := make([]*chunkWorker, n)
	for i := range workers {
		workers[i] = &chunkWorker{conn: conns[i], q: q, stmts: map[string]ScanStmt{},
			in: make(chan bound, 1), out: make(chan chunkMsg, maxBatches),
			free: make(chan []store.LedgerEntry, maxBatches), maxBatches: maxBatches}
		if f.Residence {
			workers[i].res = &residenceCursor{w: workers[i]}
		}
	}
	for i, w := range workers {
		w.next = workers[(i+1)%n].in
	}
	workers[0].in <- bound{} // the first chunk starts at the start
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(ctx); err != nil {
				fail(err)
			}
		}()
	}
	defer func() { // before the connections close
		cancel()
		wg.Wait()
	}()

	var ferr error
	cur := 0
	for ferr == nil {
		var m chunkMsg
		select {
		case m = <-workers[cur].out:
		case <-ctx.Done():
			cancel()
			wg.Wait()
			if werr != nil {
				return true, werr
			}
			return true, parent.Err()
		}
		for i := 0; i < len(m.rows) && ferr == nil; i++ {
			ferr = fn(m.rows[i])
		}
		workers[cur].free <- m.rows[:0]
		if m.last {
			break
		}
		if m.end {
			cur = (cur + 1) % n
		}
	}
	// Every row was read, or fn ended the scan: what the workers do now
	// does not matter.
	return true, ferr
}

// beginSnapshot starts a read transaction on each connection and returns
// how many of them, from the first, read one snapshot of the database.
//
// SQLite cannot share a snapshot between connections. But in WAL mode a
// read transaction sees the database as of the last commit before it
// began, and PRAGMA data_version changes when anything was committed by
// another connection between a connection's read transactions. So the last
// connection reads the version, the others begin, the last begins and reads
// it again: unchanged, nothing was committed while they began, and all of
// them read the same commit. A commit in between (a gateway flushing its
// ledger) makes them start over; after a few tries, the first connection
// scans alone.
func beginSnapshot(conns []ScanConn) (int, error) {
	last := conns[len(conns)-1]
	for try := 0; len(conns) > 1 && try < 3; try++ {
		before, err := dataVersion(last)
		if err != nil {
			return 0, err
		}
		var after int64
		for _, c := range conns {
			if beginHook != nil {
				beginHook()
			}
			if err := c.Exec("BEGIN"); err != nil {
				return 0, err
			}
			// The first read takes the snapshot.
			if after, err = dataVersion(c); err != nil {
				return 0, err
			}
		}
		if after == before {
			return len(conns), nil
		}
		for _, c := range conns {
			if err := c.Exec("ROLLBACK"); err != nil {
				return 0, err
			}
		}
	}
	if err := conns[0].Exec("BEGIN"); err != nil {
		return 0, err
	}
	_, err := dataVersion(conns[0])
	return 1, err
}

// beginHook, when set, runs before each connection begins: tests widen
// the window for a commit with it.
var beginHook func()

func dataVersion(c ScanConn) (int64, error) {
	st, err := c.Prepare("PRAGMA data_version")
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.Start(); err != nil {
		return 0, err
	}
	ok, err := st.Next()
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("PRAGMA data_version: no row")
	}
	return st.Int(0), nil
}

// chunkQueries is the SQL of a chunked ledger scan.
type chunkQueries struct {
	vendor string
	// rows reads a chunk's rows, by whether it has a lower bound (1) and
	// an upper one (2); args come first, then the bounds.
	rows [4]string
	args []any
	// find finds a chunk's end, with or without a lower bound: the
	// vendor, the bound, the number of rows; after is the subject after
	// one (the vendor, the subject).
	find  [2]string
	after string
	// residences reads residences from a subject, up to a bound or not.
	residences [2]string
}

func (s *DB) chunkQueries(vendor string, f store.LedgerFilter) *chunkQueries {
	q := &chunkQueries{vendor: vendor, args: []any{vendor}}
	where := []string{"l.vendor_id = ?"}
	// The unary + keep the filters out of index selection: a chunk is a
	// range of the primary key (see ScanLedger).
	if f.Category != "" {
		cond, cargs := categoryCondition("+l.category", f.Category)
		where = append(where, cond)
		q.args = append(q.args, cargs...)
	}
	if !f.From.IsZero() {
		where = append(where, "+l.last_seen >= ?")
		q.args = append(q.args, s.timeArg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "+l.first_seen <= ?")
		q.args = append(q.args, s.timeArg(f.To))
	}
	for i := range q.rows {
		w := slices.Clone(where)
		if i&1 != 0 {
			w = append(w, "l.subject >= ?")
		}
		if i&2 != 0 {
			w = append(w, "l.subject < ?")
		}
		q.rows[i] = `SELECT l.subject, l.category, l.first_seen, l.last_seen, l.messages FROM ledger l WHERE ` +
			strings.Join(w, " AND ") + ` ORDER BY l.vendor_id, l.subject, l.category`
	}
	q.find[0] = `SELECT l.subject FROM ledger l WHERE l.vendor_id = ?
		ORDER BY l.vendor_id, l.subject, l.category LIMIT 1 OFFSET ?`
	q.find[1] = `SELECT l.subject FROM ledger l WHERE l.vendor_id = ? AND l.subject >= ?
		ORDER BY l.vendor_id, l.subject, l.category LIMIT 1 OFFSET ?`
	q.after = `SELECT l.subject FROM ledger l WHERE l.vendor_id = ? AND l.subject > ?
		ORDER BY l.vendor_id, l.subject LIMIT 1`
	q.residences[0] = `SELECT subject, jurisdiction, external_id FROM subject_residence WHERE subject >= ? ORDER BY subject`
	q.residences[1] = `SELECT subject, jurisdiction, external_id FROM subject_residence WHERE subject >= ? AND subject < ? ORDER BY subject`
	return q
}

// bound is where a chunk starts or ends.
type bound struct {
	subject string
	// set is false for no bound: the start of the first chunk, the end of
	// the last.
	set bool
	// done: there is no chunk to read.
	done bool
}

// chunkMsg is a batch of a chunk's rows.
type chunkMsg struct {
	rows []store.LedgerEntry
	// end marks the chunk's last batch; last, the scan's.
	end, last bool
}

// chunkWorker reads chunks on one connection.
type chunkWorker struct {
	conn  ScanConn
	q     *chunkQueries
	stmts map[string]ScanStmt
	res   *residenceCursor
	// in is where its next chunk starts; next, the next worker's in.
	in   chan bound
	next chan<- bound
	// out are the rows read, in batches taken from free.
	out        chan chunkMsg
	free       chan []store.LedgerEntry
	made       int
	maxBatches int
	// The subject of the row before, and its residence.
	subject                  string
	inSubject                bool
	jurisdiction, externalID string
	categories               map[string]string
}

func (w *chunkWorker) prepare(query string) (ScanStmt, error) {
	if st := w.stmts[query]; st != nil {
		return st, nil
	}
	st, err := w.conn.Prepare(query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = st
	return st, nil
}

func (w *chunkWorker) run(ctx context.Context) error {
	for {
		var from bound
		select {
		case from = <-w.in:
		case <-ctx.Done():
			return nil
		}
		if from.done {
			w.pass(ctx, from)
			return nil
		}
		to, err := w.end(from)
		if err != nil {
			return err
		}
		if to.set {
			w.pass(ctx, to)
		} else {
			w.pass(ctx, bound{done: true})
		}
		if err := w.read(ctx, from, to); err != nil {
			return err
		}
	}
}

// pass hands the next worker where its chunk starts. Its channel has
// room: each worker passes one bound per chunk, and takes its own before
// passing the next.
func (w *chunkWorker) pass(ctx context.Context, b bound) {
	select {
	case w.next <- b:
	case <-ctx.Done():
	}
}

// end finds where the chunk starting at from ends. A worker alone reads
// everything as one chunk.
func (w *chunkWorker) end(from bound) (bound, error) {
	if w.next == w.in {
		return bound{}, nil
	}
	query, args := w.q.find[0], []any{w.q.vendor}
	if from.set {
		query, args = w.q.find[1], append(args, from.subject)
	}
	to, err := w.subjectAt(query, append(args, int64(scanChunkRows))...)
	if err != nil || !to.set || !from.set || to.subject != from.subject {
		return to, err
	}
	// One subject has a chunk's rows or more: the chunk ends after it.
	return w.subjectAt(w.q.after, w.q.vendor, from.subject)
}

// subjectAt reads the subject a query finds; none is no bound.
func (w *chunkWorker) subjectAt(query string, args ...any) (bound, error) {
	st, err := w.prepare(query)
	if err != nil {
		return bound{}, err
	}
	if err := st.Start(args...); err != nil {
		return bound{}, err
	}
	ok, err := st.Next()
	// A subject that is not text (SQLite sorts blobs after text) is no
	// bound: the last chunk reads everything from where it starts.
	if err != nil || !ok || st.Kind(0) != ScanText {
		return bound{}, err
	}
	return bound{subject: string(st.Text(0)), set: true}, nil
}

// take returns an empty batch.
func (w *chunkWorker) take(ctx context.Context) ([]store.LedgerEntry, error) {
	select {
	case b := <-w.free:
		return b, nil
	default:
	}
	if w.made < w.maxBatches {
		w.made++
		return make([]store.LedgerEntry, 0, scanBatchRows), nil
	}
	select {
	case b := <-w.free:
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// read reads the chunk [from, to) and sends its rows.
func (w *chunkWorker) read(ctx context.Context, from, to bound) error {
	i, args := 0, w.q.args
	if from.set {
		i, args = i|1, append(slices.Clone(args), from.subject)
	}
	if to.set {
		i, args = i|2, append(slices.Clone(args), to.subject)
	}
	st, err := w.prepare(w.q.rows[i])
	if err != nil {
		return err
	}
	if err := st.Start(args...); err != nil {
		return err
	}
	w.inSubject = false
	if w.res != nil {
		w.res.chunk(to)
	}
	batch, err := w.take(ctx)
	if err != nil {
		return err
	}
	for {
		ok, err := st.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		batch = append(batch, store.LedgerEntry{Vendor: w.q.vendor})
		if err := w.decode(&batch[len(batch)-1], st); err != nil {
			return err
		}
		if len(batch) == cap(batch) {
			w.out <- chunkMsg{rows: batch} // never blocks: out holds every batch
			if batch, err = w.take(ctx); err != nil {
				return err
			}
		}
	}
	w.out <- chunkMsg{rows: batch, end: true, last: !to.set}
	return nil
}

// decode reads a row: subject, category, first_seen, last_seen, messages.
// It asks the type of a value only when its text does not tell it: each
// call into the driver counts, ten million rows over.
func (w *chunkWorker) decode(e *store.LedgerEntry, st ScanStmt) error {
	subject, category := st.Text(0), st.Text(1)
	if subject == nil || category == nil {
		return fmt.Errorf("ledger scan: NULL subject or category")
	}
	if !w.inSubject || string(subject) != w.subject {
		w.subject, w.inSubject = string(subject), true
		if w.res != nil {
			var err error
			if w.jurisdiction, w.externalID, err = w.res.lookup(w.subject); err != nil {
				return err
			}
		}
	}
	e.Subject, e.Jurisdiction, e.ExternalID = w.subject, w.jurisdiction, w.externalID
	e.Category = intern(&w.categories, category)
	var err error
	if e.FirstSeen, err = stmtTime(st, 2); err != nil {
		return err
	}
	if e.LastSeen, err = stmtTime(st, 3); err != nil {
		return err
	}
	switch st.Kind(4) {
	case ScanInt:
		e.Messages = st.Int(4)
	case ScanNull:
		return fmt.Errorf("ledger scan: NULL messages")
	default:
		if e.Messages, err = strconv.ParseInt(string(st.Text(4)), 10, 64); err != nil {
			return fmt.Errorf("ledger scan: messages: %w", err)
		}
	}
	return nil
}

// stmtTime reads a stored time as timeDest does: zero for NULL. Text, nil
// for NULL, comes first: a time in TextTime's form is text.
func stmtTime(st ScanStmt, i int) (time.Time, error) {
	b := st.Text(i)
	if b == nil {
		return time.Time{}, nil
	}
	if t, ok := parseTextTime(b); ok {
		return t, nil
	}
	switch st.Kind(i) {
	case ScanInt:
		return time.Time{}, fmt.Errorf("cannot scan int64 into a time")
	case ScanFloat:
		return time.Time{}, fmt.Errorf("cannot scan float64 into a time")
	}
	t, _, err := scanTime(string(b))
	return t, err
}

// residenceCursor reads the residences of a chunk's subjects: a second
// query on the connection, in subject order beside the ledger's, which
// seeks ahead when the ledger's subjects are sparse among the residences.
type residenceCursor struct {
	w  *chunkWorker
	st ScanStmt // nil until the chunk's first lookup
	to bound
	on bool // st is on a row
	// jurisdictions interns the few jurisdictions.
	jurisdictions map[string]string
}

// residenceSkips is how many residences a lookup steps over before it
// seeks instead.
const residenceSkips = 8

func (r *residenceCursor) chunk(to bound) { r.st, r.to = nil, to }

func (r *residenceCursor) seek(subject string) (err error) {
	query, args := r.w.q.residences[0], []any{subject}
	if r.to.set {
		query, args = r.w.q.residences[1], append(args, r.to.subject)
	}
	if r.st, err = r.w.prepare(query); err != nil {
		return err
	}
	if err := r.st.Start(args...); err != nil {
		return err
	}
	r.on, err = r.st.Next()
	return err
}

// lookup returns the residence of subject, "" when there is none. A
// chunk's lookups come in subject order.
func (r *residenceCursor) lookup(subject string) (jurisdiction, externalID string, err error) {
	if r.st == nil {
		if err := r.seek(subject); err != nil {
			return "", "", err
		}
	}
	for skipped := 0; r.on; skipped++ {
		switch at := r.st.Text(0); {
		case string(at) == subject:
			return intern(&r.jurisdictions, r.st.Text(1)), string(r.st.Text(2)), nil
		case string(at) > subject:
			return "", "", nil
		case skipped == residenceSkips:
			err = r.seek(subject)
		default:
			r.on, err = r.st.Next()
		}
		if err != nil {
			return "", "", err
		}
	}
	return "", "", nil
}
