package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/weaklink/weaklink/internal/store"
)

// Narrow reads for pages that show a little of a large inventory.

// paging is the LIMIT and OFFSET clause of a filter's paging (limit 0:
// all), or "".
func (s *DB) paging(limit, offset int) string {
	if limit <= 0 && offset <= 0 {
		return ""
	}
	offset = max(offset, 0)
	if limit <= 0 {
		if s.d.Name == "postgres" {
			return fmt.Sprintf(" OFFSET %d", offset)
		}
		return fmt.Sprintf(" LIMIT -1 OFFSET %d", offset) // SQLite's "no limit"
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", limit, offset)
}

// VendorNames reads the ids and names of the vendors f selects, in its
// order, without their subprocessors.
func (s *DB) VendorNames(ctx context.Context, f store.VendorFilter) ([]store.VendorName, error) {
	cond, args := s.vendorWhere(f)
	order, err := vendorOrder(f.Sort)
	if err != nil {
		return nil, err
	}
	return list(ctx, s.db, func(r scanner) (store.VendorName, error) {
		var v store.VendorName
		return v, r.Scan(&v.ID, &v.Name)
	}, s.q(`SELECT id, name FROM vendors`+cond+" ORDER BY "+order+s.paging(f.Limit, f.Offset)), args...)
}

// vendorSep joins vendor ids in CategoryVendors' aggregate: the ASCII
// unit separator, which a slug cannot hold.
const vendorSep = "\x1f"

// CategoryVendors reads flow_categories as one row per category, its
// vendor ids joined (string_agg, in SQLite since 3.44 and in PostgreSQL):
// a few dozen rows instead of one per (flow, category), and no sort in
// the database. The ids are sorted and deduplicated here. A category
// whose ids do not split back into its row count (an id holding the
// separator) is read again, plainly.
func (s *DB) CategoryVendors(ctx context.Context) (map[string][]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT category, COUNT(*), string_agg(vendor_id, ?) FROM flow_categories GROUP BY category`), vendorSep)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	var odd []string
	for rows.Next() {
		var c, joined string
		var n int
		if err := rows.Scan(&c, &n, &joined); err != nil {
			return nil, err
		}
		ids := strings.Split(joined, vendorSep)
		if len(ids) != n {
			odd = append(odd, c)
			continue
		}
		slices.Sort(ids)
		out[c] = slices.Compact(ids)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, c := range odd {
		if out[c], err = list(ctx, s.db, scanString, s.q(`SELECT DISTINCT vendor_id FROM flow_categories WHERE category = ? ORDER BY vendor_id`), c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InventoryVersion reads the inventory's version.
func (s *DB) InventoryVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT version FROM inventory_state WHERE id = 1`).Scan(&v)
	return v, err
}

// CountIncidents counts the incidents f selects.
func (s *DB) CountIncidents(ctx context.Context, f store.IncidentFilter) (int64, error) {
	cond, args := incidentWhere(f)
	var n int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM incidents `+cond), args...).Scan(&n)
	return n, err
}
