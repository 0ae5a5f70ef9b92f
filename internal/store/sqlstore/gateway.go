package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

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
		return err
	})
}

// UnblockVendor removes a vendor's kill switch.
func (s *DB) UnblockVendor(ctx context.Context, vendor string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM vendor_blocks WHERE vendor_id = ?`), vendor)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("vendor %q is not blocked: %w", vendor, store.ErrNotFound)
	}
	return nil
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

// ScanLedger streams matching ledger rows in key order.
func (s *DB) ScanLedger(ctx context.Context, f store.LedgerFilter, fn func(store.LedgerEntry) error) error {
	var where []string
	var args []any
	vendors := slices.Clone(f.Vendors)
	if f.Vendor != "" {
		vendors = append(vendors, f.Vendor)
	}
	slices.Sort(vendors)
	vendors = slices.Compact(vendors)
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
		where = append(where, "l.last_seen >= ?")
		args = append(args, s.timeArg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "l.first_seen <= ?")
		args = append(args, s.timeArg(f.To))
	}
	query := `SELECT l.vendor_id, l.subject, l.category, l.first_seen, l.last_seen, l.messages, '', '' FROM ledger l`
	if f.Residence {
		query = `SELECT l.vendor_id, l.subject, l.category, l.first_seen, l.last_seen, l.messages,
			COALESCE(r.jurisdiction, ''), COALESCE(r.external_id, '')
			FROM ledger l LEFT JOIN subject_residence r ON r.subject = l.subject`
	}
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY l.vendor_id, l.subject, l.category"
	if len(vendors) > 1 {
		order = " ORDER BY l.subject, l.vendor_id, l.category"
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+order), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e store.LedgerEntry
		if err := rows.Scan(&e.Vendor, &e.Subject, &e.Category, timeDest{&e.FirstSeen}, timeDest{&e.LastSeen}, &e.Messages,
			&e.Jurisdiction, &e.ExternalID); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
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
		return nil
	})
}
