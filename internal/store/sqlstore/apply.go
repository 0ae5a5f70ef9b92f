package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// Apply writes a plan in one transaction, in phases that keep every foreign
// key satisfied whatever the order of the plan: flow deletes; vendor and
// system creates and updates; subprocessor links; flow creates and updates;
// system deletes; vendor deletes. Creates are multi-row inserts; updates and
// deletes check the revision the plan expects.
func (s *DB) Apply(ctx context.Context, base int64, plan inventory.Plan) error {
	var (
		vendorCreate, vendorUpdate, vendorDelete []*inventory.Vendor
		systemCreate, systemUpdate, systemDelete []*inventory.System
		flowCreate, flowUpdate, flowDelete       []*inventory.Flow
		revisions                                = map[string]int64{}
	)
	for _, c := range plan.Changes {
		key := string(c.Kind) + "\x00" + c.ID
		revisions[key] = c.Revision
		switch {
		case c.Vendor != nil:
			pick(c.Op, c.Vendor, &vendorCreate, &vendorUpdate, &vendorDelete)
		case c.System != nil:
			pick(c.Op, c.System, &systemCreate, &systemUpdate, &systemDelete)
		case c.Flow != nil:
			pick(c.Op, c.Flow, &flowCreate, &flowUpdate, &flowDelete)
		default:
			return fmt.Errorf("apply: change %s %s %s has no object", c.Op, c.Kind, c.ID)
		}
	}
	rev := func(kind inventory.Kind, id string) int64 { return revisions[string(kind)+"\x00"+id] }

	err := s.inTx(ctx, nil, func(tx *sql.Tx) error {
		var version int64
		if err := tx.QueryRowContext(ctx, `SELECT version FROM inventory_state WHERE id = 1`).Scan(&version); err != nil {
			return err
		}
		if base > 0 && version != base {
			return fmt.Errorf("%w: the inventory changed since the plan was made (now at version %d, plan made at %d); plan again", store.ErrConflict, version, base)
		}
		if plan.Empty() {
			return nil
		}
		if err := s.appendAudit(ctx, tx, planAudit(plan)); err != nil {
			return err
		}
		now := s.timeArg(s.now())
		w := &writer{s: s, tx: tx, ctx: ctx}

		// 1. flow deletes, with their category index rows
		w.deleteWhereIn("flow_categories", "flow_id", flowIDs(flowDelete))
		w.deleteRows("flows", "flow", flowIDs(flowDelete), func(id string) int64 { return rev(inventory.KindFlow, id) })

		// 2. vendors and systems
		rows := make([][]any, 0, len(vendorCreate))
		for _, v := range vendorCreate {
			rows = append(rows, []any{v.ID, v.Name, v.LegalEntity, v.Website, marshalList(v.Domains), v.Category, v.Owner,
				v.Status, v.Criticality, v.Description, marshalList(v.Tags), v.Catalog, 1, now, now})
		}
		w.insert("vendors", vendorCols, rows)
		for _, v := range vendorUpdate {
			w.update("vendor", v.ID, rev(inventory.KindVendor, v.ID), `UPDATE vendors SET name = ?, legal_entity = ?, website = ?, domains = ?,
				category = ?, owner = ?, status = ?, criticality = ?, description = ?, tags = ?, catalog = ?,
				revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ?`,
				v.Name, v.LegalEntity, v.Website, marshalList(v.Domains), v.Category, v.Owner, v.Status, v.Criticality,
				v.Description, marshalList(v.Tags), v.Catalog, now, v.ID, rev(inventory.KindVendor, v.ID))
		}
		rows = rows[:0]
		for _, sy := range systemCreate {
			rows = append(rows, []any{sy.ID, sy.Name, sy.Description, sy.Owner, sy.Environment, sy.Repository, marshalList(sy.Tags), 1, now, now})
		}
		w.insert("systems", systemCols, rows)
		for _, sy := range systemUpdate {
			w.update("system", sy.ID, rev(inventory.KindSystem, sy.ID), `UPDATE systems SET name = ?, description = ?, owner = ?, environment = ?,
				repository = ?, tags = ?, revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ?`,
				sy.Name, sy.Description, sy.Owner, sy.Environment, sy.Repository, marshalList(sy.Tags), now, sy.ID, rev(inventory.KindSystem, sy.ID))
		}

		// 3. subprocessor links of created and updated vendors
		var linkRows [][]any
		for _, v := range slices.Concat(vendorCreate, vendorUpdate) {
			for _, sp := range v.Subprocessors {
				linkRows = append(linkRows, []any{v.ID, sp})
			}
		}
		w.deleteWhereIn("vendor_subprocessors", "vendor_id", ids(vendorUpdate))
		w.insert("vendor_subprocessors", "vendor_id, subprocessor_id", linkRows)

		// 4. flows and their category index
		rows = make([][]any, 0, len(flowCreate))
		var catRows [][]any
		for _, f := range flowCreate {
			rows = append(rows, []any{f.ID, f.System, f.Vendor, marshalList(f.Categories), marshalList(f.Subjects), f.Purpose,
				f.LegalBasis, f.EstimatedSubjects, f.Source, evidenceJSON(f.Evidence), s.nullTimeArg(f.FirstSeen),
				s.nullTimeArg(f.LastSeen), f.Description, 1, now, now})
			for _, c := range f.Categories {
				catRows = append(catRows, []any{f.ID, c, f.System, f.Vendor})
			}
		}
		w.insert("flows", flowCols, rows)
		for _, f := range flowUpdate {
			w.update("flow", f.ID, rev(inventory.KindFlow, f.ID), `UPDATE flows SET system_id = ?, vendor_id = ?, categories = ?, subjects = ?,
				purpose = ?, legal_basis = ?, estimated_subjects = ?, source = ?, evidence = ?, first_seen = ?, last_seen = ?,
				description = ?, revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ?`,
				f.System, f.Vendor, marshalList(f.Categories), marshalList(f.Subjects), f.Purpose, f.LegalBasis,
				f.EstimatedSubjects, f.Source, evidenceJSON(f.Evidence), s.nullTimeArg(f.FirstSeen), s.nullTimeArg(f.LastSeen),
				f.Description, now, f.ID, rev(inventory.KindFlow, f.ID))
			for _, c := range f.Categories {
				catRows = append(catRows, []any{f.ID, c, f.System, f.Vendor})
			}
		}
		w.deleteWhereIn("flow_categories", "flow_id", flowIDs(flowUpdate))
		w.insert("flow_categories", "flow_id, category, system_id, vendor_id", catRows)

		// 5. system and vendor deletes
		w.deleteRows("systems", "system", ids(systemDelete), func(id string) int64 { return rev(inventory.KindSystem, id) })
		w.deleteRows("vendors", "vendor", ids(vendorDelete), func(id string) int64 { return rev(inventory.KindVendor, id) })

		if w.err != nil {
			return s.mapErr(w.err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE inventory_state SET version = version + 1 WHERE id = 1`)
		return err
	})
	if err == nil && len(plan.Changes) >= analyzeAfter && s.d.Analyze != "" {
		// A large load leaves the planner's statistics stale, and a stale plan
		// for the category query scans every flow. Refreshing them is an
		// optimization: its failure is not the caller's.
		_, _ = s.db.ExecContext(ctx, s.d.Analyze)
	}
	return err
}

// analyzeAfter is the plan size from which Apply refreshes statistics.
const analyzeAfter = 1000

func pick[T any](op inventory.Op, x *T, create, update, del *[]*T) {
	switch op {
	case inventory.OpCreate:
		*create = append(*create, x)
	case inventory.OpUpdate:
		*update = append(*update, x)
	case inventory.OpDelete:
		*del = append(*del, x)
	}
}

type ider interface {
	*inventory.Vendor | *inventory.System
}

func ids[T ider](list []T) []string {
	out := make([]string, len(list))
	for i, x := range list {
		switch v := any(x).(type) {
		case *inventory.Vendor:
			out[i] = v.ID
		case *inventory.System:
			out[i] = v.ID
		}
	}
	return out
}

func flowIDs(list []*inventory.Flow) []string {
	out := make([]string, len(list))
	for i, f := range list {
		out[i] = f.ID
	}
	return out
}

func evidenceJSON(e []inventory.Evidence) string {
	if len(e) == 0 {
		return "[]"
	}
	return marshalJSON(e)
}

// writer runs the statements of one Apply and keeps the first error, so the
// phases read as a list.
type writer struct {
	s   *DB
	tx  *sql.Tx
	ctx context.Context
	err error
}

func (w *writer) chunk(cols int) int { return max(1, min(500, w.s.d.MaxParams/cols)) }

// insert adds rows with multi-row INSERT statements. Full-size batches share
// one prepared statement, so the database parses and plans it once.
func (w *writer) insert(table, cols string, rows [][]any) { w.insertSuffix(table, cols, rows, "") }

// insertSuffix is insert with a clause after the VALUES (ON CONFLICT …).
func (w *writer) insertSuffix(table, cols string, rows [][]any, suffix string) {
	if w.err != nil || len(rows) == 0 {
		return
	}
	ncol := len(rows[0])
	size := w.chunk(ncol)
	statement := func(n int) string {
		row := "(" + placeholders(ncol) + ")"
		return w.s.q("INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + suffix)
	}
	var full *sql.Stmt
	if len(rows) >= size {
		stmt, err := w.tx.PrepareContext(w.ctx, statement(size))
		if err != nil {
			w.err = fmt.Errorf("insert %s: prepare: %w", table, err)
			return
		}
		defer stmt.Close()
		full = stmt
	}
	args := make([]any, 0, size*ncol)
	for start := 0; start < len(rows); start += size {
		batch := rows[start:min(start+size, len(rows))]
		args = args[:0]
		for _, r := range batch {
			args = append(args, r...)
		}
		var err error
		if len(batch) == size {
			_, err = full.ExecContext(w.ctx, args...)
		} else {
			_, err = w.tx.ExecContext(w.ctx, statement(len(batch)), args...)
		}
		if err != nil {
			if w.s.d.Conflict != nil && w.s.d.Conflict(err) {
				w.err = fmt.Errorf("%w: %s: an object already exists or a reference is missing: %v", store.ErrConflict, table, err)
			} else {
				w.err = fmt.Errorf("insert %s: %w", table, err)
			}
			return
		}
	}
}

// update runs one UPDATE … WHERE id = ? AND revision = ? and requires it to
// touch exactly one row.
func (w *writer) update(kind, id string, rev int64, query string, args ...any) {
	if w.err != nil {
		return
	}
	res, err := w.tx.ExecContext(w.ctx, w.s.q(query), args...)
	if err != nil {
		w.err = fmt.Errorf("update %s %q: %w", kind, id, err)
		return
	}
	if n, _ := res.RowsAffected(); n != 1 {
		w.err = fmt.Errorf("%w: %s %q is not at revision %d any more (changed or deleted since the plan was made)", store.ErrConflict, kind, id, rev)
	}
}

// deleteRows deletes by (id, revision) pairs in batches and requires every
// pair to match.
func (w *writer) deleteRows(table, kind string, idList []string, rev func(string) int64) {
	if w.err != nil || len(idList) == 0 {
		return
	}
	size := w.chunk(2)
	for start := 0; start < len(idList); start += size {
		batch := idList[start:min(start+size, len(idList))]
		args := make([]any, 0, 2*len(batch))
		for _, id := range batch {
			args = append(args, id, rev(id))
		}
		pairs := strings.TrimSuffix(strings.Repeat("(?, CAST(? AS BIGINT)), ", len(batch)), ", ")
		res, err := w.tx.ExecContext(w.ctx, w.s.q("DELETE FROM "+table+" WHERE (id, revision) IN (VALUES "+pairs+")"), args...)
		if err != nil {
			if w.s.d.Conflict != nil && w.s.d.Conflict(err) {
				w.err = fmt.Errorf("%w: cannot delete from %s: still referenced (%v)", store.ErrConflict, table, err)
			} else {
				w.err = fmt.Errorf("delete %s: %w", table, err)
			}
			return
		}
		if n, _ := res.RowsAffected(); n != int64(len(batch)) {
			w.err = fmt.Errorf("%w: %d of %d %ss to delete changed or vanished since the plan was made", store.ErrConflict, int64(len(batch))-n, len(batch), kind)
			return
		}
	}
}

func (w *writer) deleteWhereIn(table, col string, values []string) {
	if w.err != nil || len(values) == 0 {
		return
	}
	size := w.chunk(1)
	for start := 0; start < len(values); start += size {
		batch := values[start:min(start+size, len(values))]
		args := make([]any, len(batch))
		for i, v := range batch {
			args[i] = v
		}
		if _, err := w.tx.ExecContext(w.ctx, w.s.q("DELETE FROM "+table+" WHERE "+col+" IN ("+placeholders(len(batch))+")"), args...); err != nil {
			w.err = fmt.Errorf("delete %s: %w", table, err)
			return
		}
	}
}
