package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

const auditCols = "seq, at, actor, action, object, before, after, prev, hash"

// appendAudit chains entries after the log's head and writes them in tx,
// the transaction of the change they record. The head row is locked for
// the rest of the transaction (SQLite's write transactions are serialized
// already), so concurrent writers, in one process or several, chain in
// turn.
func (s *DB) appendAudit(ctx context.Context, tx *sql.Tx, entries []audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	var head audit.Head
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+s.d.LockRow).Scan(&head.Seq, &head.Hash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	actor := audit.Actor(ctx)
	now := s.now()
	rows := make([][]any, 0, len(entries))
	for i := range entries {
		e := &entries[i]
		if e.Actor == "" {
			e.Actor = actor
		}
		if e.At.IsZero() {
			e.At = now
		}
		audit.Chain(e, head.Seq, head.Hash)
		head = audit.Head{Seq: e.Seq, Hash: e.Hash}
		rows = append(rows, []any{e.Seq, s.timeArg(e.At), e.Actor, e.Action, e.Object, nullJSON(e.Before), nullJSON(e.After), e.Prev, e.Hash})
	}
	w := &writer{s: s, tx: tx, ctx: ctx}
	w.insert("audit_log", auditCols, rows)
	if w.err != nil {
		return w.err
	}
	_, err := tx.ExecContext(ctx, s.q(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`), head.Seq, head.Hash)
	return err
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// auditJSON renders v for an audit entry.
func auditJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", err.Error()))
	}
	return b
}

// planAudit is one entry per change of a plan: the object created or
// deleted, or the fields an update changed, before and after.
func planAudit(plan inventory.Plan) []audit.Entry {
	out := make([]audit.Entry, 0, len(plan.Changes))
	for _, c := range plan.Changes {
		e := audit.Entry{Action: string(c.Op), Object: string(c.Kind) + ":" + c.ID}
		var obj any
		switch {
		case c.Vendor != nil:
			v := *c.Vendor
			v.Meta = inventory.Meta{}
			obj = v
		case c.System != nil:
			sy := *c.System
			sy.Meta = inventory.Meta{}
			obj = sy
		case c.Flow != nil:
			f := *c.Flow
			f.Meta = inventory.Meta{}
			obj = f
		}
		switch c.Op {
		case inventory.OpCreate:
			e.After = auditJSON(obj)
		case inventory.OpDelete:
			e.Before = auditJSON(obj)
		default:
			before, after := map[string]json.RawMessage{}, map[string]json.RawMessage{}
			for _, f := range c.Fields {
				before[f.Field], after[f.Field] = f.Old, f.New
			}
			e.Before, e.After = auditJSON(before), auditJSON(after)
		}
		out = append(out, e)
	}
	return out
}

// AuditHead reads the chain's head.
func (s *DB) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := s.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	return h, err
}

// ScanAudit streams the audit log in sequence order, from entry from (1:
// the start), filtered to one object when f.Object is set.
func (s *DB) ScanAudit(ctx context.Context, f store.AuditFilter, fn func(audit.Entry) error) error {
	query := `SELECT ` + auditCols + ` FROM audit_log WHERE seq >= ?`
	args := []any{max(f.From, 1)}
	if f.Object != "" {
		query += ` AND object = ?`
		args = append(args, f.Object)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY seq`), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e audit.Entry
		var before, after sql.NullString
		if err := rows.Scan(&e.Seq, timeDest{&e.At}, &e.Actor, &e.Action, &e.Object, &before, &after, &e.Prev, &e.Hash); err != nil {
			return err
		}
		if before.Valid {
			e.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			e.After = json.RawMessage(after.String)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
