package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/store"
)

// BlockVendor records a vendor's kill switch.
func (s *DB) BlockVendor(ctx context.Context, b store.Block) error {
	return s.inTx(ctx, nil, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM vendors WHERE id = ?`), b.Vendor).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("vendor", b.Vendor)
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO vendor_blocks (vendor_id, reason, blocked_by, blocked_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (vendor_id) DO UPDATE SET reason = excluded.reason, blocked_by = excluded.blocked_by, blocked_at = excluded.blocked_at`),
			b.Vendor, b.Reason, b.BlockedBy, s.timeArg(b.BlockedAt))
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, []audit.Entry{{Action: "block", Object: "vendor:" + b.Vendor, After: auditJSON(b)}})
	})
}

// UnblockVendor removes a vendor's kill switch.
func (s *DB) UnblockVendor(ctx context.Context, vendor string) error {
	return s.inTx(ctx, nil, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM vendor_blocks WHERE vendor_id = ?`), vendor)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("vendor %q is not blocked: %w", vendor, store.ErrNotFound)
		}
		return s.appendAudit(ctx, tx, []audit.Entry{{Action: "unblock", Object: "vendor:" + vendor}})
	})
}

// Gates reads existence, status and block of each vendor in one query.
func (s *DB) Gates(ctx context.Context, vendors []string) (map[string]store.Gate, error) {
	out := make(map[string]store.Gate, len(vendors))
	if len(vendors) == 0 {
		return out, nil
	}
	args := make([]any, len(vendors))
	for i, v := range vendors {
		args[i] = v
		out[v] = store.Gate{}
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT v.id, v.status, b.reason, b.blocked_by, b.blocked_at
		FROM vendors v LEFT JOIN vendor_blocks b ON b.vendor_id = v.id
		WHERE v.id IN (`+placeholders(len(vendors))+`)`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, status string
		var reason, by sql.NullString
		var b store.Block
		var at any
		if err := rows.Scan(&id, &status, &reason, &by, &at); err != nil {
			return nil, err
		}
		g := store.Gate{Exists: true, Status: status}
		if reason.Valid {
			t, err := parseTime(at)
			if err != nil {
				return nil, err
			}
			b = store.Block{Vendor: id, Reason: reason.String, BlockedBy: by.String}
			if t != nil {
				b.BlockedAt = *t
			}
			g.Block = &b
		}
		out[id] = g
	}
	return out, rows.Err()
}

// RecordLedger merges entries and action counts in one transaction. Rows are
// merged per key and written in key order, so concurrent gateways take row
// locks in the same order and never deadlock.
func (s *DB) RecordLedger(ctx context.Context, entries []store.LedgerEntry, actions []store.ActionCount) error {
	entries = mergeEntries(entries)
	actions = mergeActions(actions)
	if len(entries) == 0 && len(actions) == 0 {
		return nil
	}
	return s.inTx(ctx, nil, func(tx *sql.Tx) error {
		w := &writer{s: s, tx: tx, ctx: ctx}
		rows := make([][]any, len(entries))
		for i, e := range entries {
			rows[i] = []any{e.Vendor, e.Subject, e.Category, s.timeArg(e.FirstSeen), s.timeArg(e.LastSeen), e.Messages}
		}
		w.insertSuffix("ledger", "vendor_id, subject, category, first_seen, last_seen, messages", rows,
			` ON CONFLICT (vendor_id, subject, category) DO UPDATE SET
			first_seen = `+s.d.Least+`(ledger.first_seen, excluded.first_seen),
			last_seen = `+s.d.Greatest+`(ledger.last_seen, excluded.last_seen),
			messages = ledger.messages + excluded.messages`)
		rows = make([][]any, len(actions))
		for i, a := range actions {
			rows[i] = []any{a.Vendor, a.Action, a.Category, a.Count}
		}
		w.insertSuffix("ledger_actions", "vendor_id, action, category, count", rows,
			` ON CONFLICT (vendor_id, action, category) DO UPDATE SET count = ledger_actions.count + excluded.count`)
		return w.err
	})
}

func mergeEntries(in []store.LedgerEntry) []store.LedgerEntry {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b store.LedgerEntry) int {
		return cmp.Or(strings.Compare(a.Vendor, b.Vendor), strings.Compare(a.Subject, b.Subject), strings.Compare(a.Category, b.Category))
	})
	merged := out[:1]
	for _, e := range out[1:] {
		last := &merged[len(merged)-1]
		if e.Vendor == last.Vendor && e.Subject == last.Subject && e.Category == last.Category {
			if e.FirstSeen.Before(last.FirstSeen) {
				last.FirstSeen = e.FirstSeen
			}
			if e.LastSeen.After(last.LastSeen) {
				last.LastSeen = e.LastSeen
			}
			last.Messages += e.Messages
			continue
		}
		merged = append(merged, e)
	}
	return merged
}

func mergeActions(in []store.ActionCount) []store.ActionCount {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b store.ActionCount) int {
		return cmp.Or(strings.Compare(a.Vendor, b.Vendor), strings.Compare(a.Action, b.Action), strings.Compare(a.Category, b.Category))
	})
	merged := out[:1]
	for _, a := range out[1:] {
		last := &merged[len(merged)-1]
		if a.Vendor == last.Vendor && a.Action == last.Action && a.Category == last.Category {
			last.Count += a.Count
			continue
		}
		merged = append(merged, a)
	}
	return merged
}

// LedgerSummary aggregates one vendor's ledger by category.
func (s *DB) LedgerSummary(ctx context.Context, vendor string) (store.LedgerSummary, error) {
	sum := store.LedgerSummary{Vendor: vendor, Categories: []store.CategorySummary{}, Actions: []store.ActionCount{}}
	opts := s.d.SnapshotTx
	err := s.inTx(ctx, &opts, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(DISTINCT subject) FROM ledger WHERE vendor_id = ?`), vendor).Scan(&sum.Subjects); err != nil {
			return err
		}
		cats, err := list(ctx, tx, func(r scanner) (store.CategorySummary, error) {
			var c store.CategorySummary
			err := r.Scan(&c.Category, &c.Subjects, &c.Messages, timeDest{&c.FirstSeen}, timeDest{&c.LastSeen})
			return c, err
		}, s.q(`SELECT category, COUNT(*), SUM(messages), MIN(first_seen), MAX(last_seen)
			FROM ledger WHERE vendor_id = ? GROUP BY category ORDER BY category`), vendor)
		if err != nil {
			return err
		}
		acts, err := list(ctx, tx, func(r scanner) (store.ActionCount, error) {
			a := store.ActionCount{Vendor: vendor}
			err := r.Scan(&a.Action, &a.Category, &a.Count)
			return a, err
		}, s.q(`SELECT action, category, count FROM ledger_actions WHERE vendor_id = ? ORDER BY action, category`), vendor)
		if cats != nil {
			sum.Categories = cats
		}
		if acts != nil {
			sum.Actions = acts
		}
		return err
	})
	return sum, err
}

// ScanLedger streams matching ledger rows in key order. A goroutine reads
// and decodes the rows, in batches, while fn runs on the caller's: a scan
// of millions of rows keeps two cores busy. fn still sees every row in
// order, one at a time, and memory holds a few batches whatever the size
// of the ledger.
func (s *DB) ScanLedger(ctx context.Context, f store.LedgerFilter, fn func(store.LedgerEntry) error) error {
	var where []string
	var args []any
	vendors := slices.Clone(f.Vendors)
	if f.Vendor != "" {
		vendors = append(vendors, f.Vendor)
	}
	slices.Sort(vendors)
	vendors = slices.Compact(vendors)
	// One vendor's rows, where the driver has connections of its own,
	// are read by several of them at once (see scanChunks).
	if len(vendors) == 1 && s.d.OpenScan != nil {
		if ok, err := s.scanChunks(ctx, vendors[0], f, fn); ok {
			return err
		}
	}
	// In key order (one vendor or none), SQLite's planner, without
	// statistics on the ledger, takes the window from the last_seen index
	// and then sorts every matching row in a temporary b-tree: time and
	// memory that grow with the ledger. A unary + keeps a column out of
	// index selection, so the scan follows the primary key, already in
	// the order asked for.
	timeCol := func(c string) string {
		if s.d.Name == "sqlite" && len(vendors) <= 1 {
			return "+" + c
		}
		return c
	}
	switch len(vendors) {
	case 0:
	case 1:
		where = append(where, "l.vendor_id = ?")
		args = append(args, vendors[0])
	default:
		where = append(where, "l.vendor_id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vendors)), ", ")+")")
		for _, v := range vendors {
			args = append(args, v)
		}
	}
	if f.Category != "" {
		cond, cargs := categoryCondition("l.category", f.Category)
		where = append(where, cond)
		args = append(args, cargs...)
	}
	if !f.From.IsZero() {
		where = append(where, timeCol("l.last_seen")+" >= ?")
		args = append(args, s.timeArg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, timeCol("l.first_seen")+" <= ?")
		args = append(args, s.timeArg(f.To))
	}
	// With one vendor every row is that vendor's: it is not read back.
	vendor := ""
	query := `SELECT l.vendor_id, l.subject, l.category, l.first_seen, l.last_seen, l.messages`
	if len(vendors) == 1 {
		vendor = vendors[0]
		query = `SELECT l.subject, l.category, l.first_seen, l.last_seen, l.messages`
	}
	// SQLite joins row by row: every ledger row seeks subject_residence's
	// index and then its table, again for each of a subject's rows, and
	// that was nearly half the time of a 10-million-row scan. There the
	// residences are read per batch of rows instead, once per subject, in
	// the scan's read transaction (the chunked scan merges them in).
	// PostgreSQL merge-joins on the server.
	perBatch := f.Residence && s.d.Name == "sqlite"
	joined := f.Residence && !perBatch
	if joined {
		query += `, COALESCE(r.jurisdiction, ''), COALESCE(r.external_id, '')
			FROM ledger l LEFT JOIN subject_residence r ON r.subject = l.subject`
	} else {
		query += ` FROM ledger l`
	}
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY l.vendor_id, l.subject, l.category"
	if len(vendors) > 1 {
		order = " ORDER BY l.subject, l.vendor_id, l.category"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &ledgerReader{vendor: vendor, joined: joined, done: func() {}}
	if s.d.RawQuery != nil && !perBatch {
		r.raw = func(ctx context.Context, fn func(row [][]byte, binary []bool) error) error {
			return s.d.RawQuery(ctx, s.db, s.q(query+order), args, fn)
		}
	}
	var q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	} = s.db
	if perBatch {
		opts := s.d.SnapshotTx
		tx, err := s.db.BeginTx(ctx, &opts)
		if err != nil {
			return err
		}
		q, r.residences = tx, &residenceReader{tx: tx, stmts: map[int]*sql.Stmt{}, found: map[string][2]string{}}
		r.done = func() { _ = tx.Rollback() }
	}
	if r.raw == nil {
		rows, err := q.QueryContext(ctx, s.q(query+order), args...)
		if err != nil {
			r.done()
			return err
		}
		r.rows = rows
	}
	const buffers = 3
	free := make(chan []store.LedgerEntry, buffers)
	for range buffers {
		free <- make([]store.LedgerEntry, 0, 1024)
	}
	full := make(chan []store.LedgerEntry, buffers)
	read := make(chan error, 1)
	go func() {
		defer close(full)
		defer r.done()
		read <- r.read(ctx, free, full)
	}()
	var ferr error
	for batch := range full {
		if ferr == nil {
			ferr = ctx.Err()
		}
		for i := 0; i < len(batch) && ferr == nil; i++ {
			if ferr = fn(batch[i]); ferr != nil {
				cancel() // stops the reader
			}
		}
		free <- batch[:0]
	}
	rerr := <-read
	if ferr != nil {
		return ferr
	}
	return rerr
}

// ledgerReader reads a ledger scan's rows.
type ledgerReader struct {
	rows *sql.Rows
	// raw, when set, reads the rows instead, as raw column values.
	raw func(ctx context.Context, fn func(row [][]byte, binary []bool) error) error
	// vendor fills the rows' vendor when it is not read.
	vendor string
	// joined rows end with the residence's columns.
	joined bool
	// residences, when set, fills the rows' residences, a batch at a time.
	residences *residenceReader
	// done ends the scan, after rows are closed.
	done func()
}

// read decodes rows into batches taken from free and sends them, full, to
// out. It closes the rows.
func (r *ledgerReader) read(ctx context.Context, free <-chan []store.LedgerEntry, out chan<- []store.LedgerEntry) error {
	rows, vendor := r.rows, r.vendor
	if rows != nil {
		defer rows.Close()
	}
	var batch []store.LedgerEntry
	take := func() error {
		select {
		case batch = <-free:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	send := func() error {
		if r.residences != nil {
			if err := r.residences.fill(ctx, batch); err != nil {
				return err
			}
		}
		select {
		case out <- batch:
			batch = nil
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := take(); err != nil {
		return err
	}
	if r.raw != nil {
		var dec rawLedgerDecoder
		err := r.raw(ctx, func(row [][]byte, binary []bool) error {
			batch = append(batch, store.LedgerEntry{Vendor: vendor})
			if err := dec.decode(&batch[len(batch)-1], row, binary, vendor == "", r.joined); err != nil {
				return err
			}
			if len(batch) == cap(batch) {
				if err := send(); err != nil {
					return err
				}
				return take()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			return send()
		}
		return nil
	}
	dest := make([]any, 8)
	for rows.Next() {
		batch = append(batch, store.LedgerEntry{Vendor: vendor})
		e := &batch[len(batch)-1]
		dest[0], dest[1], dest[2], dest[3] = &e.Vendor, &e.Subject, &e.Category, timeDest{&e.FirstSeen}
		dest[4], dest[5], dest[6], dest[7] = timeDest{&e.LastSeen}, &e.Messages, &e.Jurisdiction, &e.ExternalID
		d := dest
		if vendor != "" {
			d = d[1:]
		}
		if !r.joined {
			d = d[:len(d)-2]
		}
		if err := rows.Scan(d...); err != nil {
			return err
		}
		if len(batch) == cap(batch) {
			if err := send(); err != nil {
				return err
			}
			if err := take(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return send()
	}
	return nil
}

// residenceReader reads the residences of a batch of ledger rows with one
// query, IN over the batch's subjects, padded to a power of two so that a
// few prepared statements serve every batch.
type residenceReader struct {
	tx       *sql.Tx
	stmts    map[int]*sql.Stmt // by number of parameters
	subjects []any
	found    map[string][2]string // subject → jurisdiction, external id
}

func (r *residenceReader) fill(ctx context.Context, batch []store.LedgerEntry) error {
	if len(batch) == 0 {
		return nil
	}
	r.subjects = r.subjects[:0]
	for i := range batch {
		if i == 0 || batch[i].Subject != batch[i-1].Subject {
			r.subjects = append(r.subjects, batch[i].Subject)
		}
	}
	n := 8
	for n < len(r.subjects) {
		n *= 2
	}
	for len(r.subjects) < n {
		r.subjects = append(r.subjects, r.subjects[len(r.subjects)-1])
	}
	stmt := r.stmts[n]
	if stmt == nil {
		var err error
		stmt, err = r.tx.PrepareContext(ctx, `SELECT subject, jurisdiction, external_id FROM subject_residence WHERE subject IN (`+placeholders(n)+`)`)
		if err != nil {
			return err
		}
		r.stmts[n] = stmt
	}
	rows, err := stmt.QueryContext(ctx, r.subjects...)
	if err != nil {
		return err
	}
	defer rows.Close()
	clear(r.found)
	for rows.Next() {
		var subject string
		var res [2]string
		if err := rows.Scan(&subject, &res[0], &res[1]); err != nil {
			return err
		}
		r.found[subject] = res
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range batch {
		if res, ok := r.found[batch[i].Subject]; ok {
			batch[i].Jurisdiction, batch[i].ExternalID = res[0], res[1]
		}
	}
	return nil
}

// PutResidence upserts subjects' residences in one transaction.
func (s *DB) PutResidence(ctx context.Context, rs []store.Residence) error {
	// One row per subject, the last one given winning: PostgreSQL refuses
	// to upsert the same key twice in one statement.
	last := make(map[string]int, len(rs))
	for i, r := range rs {
		if r.Subject == "" || r.Jurisdiction == "" {
			return fmt.Errorf("residence %d: subject and jurisdiction are required", i+1)
		}
		last[r.Subject] = i
	}
	if len(last) < len(rs) {
		var uniq []store.Residence
		for i, r := range rs {
			if last[r.Subject] == i {
				uniq = append(uniq, r)
			}
		}
		rs = uniq
	}
	return s.inTx(ctx, nil, func(tx *sql.Tx) error {
		const cols = 3
		per := max(1, s.d.MaxParams/cols)
		for start := 0; start < len(rs); start += per {
			batch := rs[start:min(len(rs), start+per)]
			args := make([]any, 0, len(batch)*cols)
			for _, r := range batch {
				args = append(args, r.Subject, r.ExternalID, r.Jurisdiction)
			}
			q := `INSERT INTO subject_residence (subject, external_id, jurisdiction) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(batch)), ", ") +
				` ON CONFLICT (subject) DO UPDATE SET external_id = excluded.external_id, jurisdiction = excluded.jurisdiction`
			if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
				return err
			}
		}
		return s.appendAudit(ctx, tx, []audit.Entry{{Action: "import", Object: "subject_residence",
			After: auditJSON(map[string]int{"people": len(rs)})}})
	})
}
