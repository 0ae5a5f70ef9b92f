package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

func notFound(kind, id string) error { return fmt.Errorf("%s %q: %w", kind, id, store.ErrNotFound) }

// GetVendor reads one vendor with its subprocessors.
func (s *DB) GetVendor(ctx context.Context, id string) (inventory.Vendor, error) {
	v, err := scanVendor(s.db.QueryRowContext(ctx, s.q(`SELECT `+vendorCols+` FROM vendors WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound("vendor", id)
	}
	if err != nil {
		return v, err
	}
	v.Subprocessors, err = list(ctx, s.db, scanString, s.q(`SELECT subprocessor_id FROM vendor_subprocessors WHERE vendor_id = ? ORDER BY subprocessor_id`), id)
	return v, err
}

func scanString(r scanner) (string, error) {
	var x string
	return x, r.Scan(&x)
}

// ListVendors returns the vendors matching f, in id order.
func (s *DB) ListVendors(ctx context.Context, f store.VendorFilter) ([]inventory.Vendor, error) {
	cond, args := s.vendorWhere(f)
	order, err := vendorOrder(f.Sort)
	if err != nil {
		return nil, err
	}
	query := `SELECT ` + vendorCols + ` FROM vendors` + cond + " ORDER BY " + order + s.paging(f.Limit, f.Offset)
	vendors, err := list(ctx, s.db, scanVendor, s.q(query), args...)
	if err != nil || len(vendors) == 0 {
		return vendors, err
	}
	// A page reads the links of its own vendors; a whole list, all links.
	var links map[string][]string
	if f.Limit > 0 && len(vendors) <= maxLinkIDs {
		ids := make([]any, len(vendors))
		for i, v := range vendors {
			ids[i] = v.ID
		}
		links, err = s.linksOf(ctx, ids)
	} else {
		links, err = s.links(ctx, s.db)
	}
	if err != nil {
		return nil, err
	}
	for i := range vendors {
		vendors[i].Subprocessors = links[vendors[i].ID]
	}
	return vendors, nil
}

// maxLinkIDs bounds the ids in one IN list (SQLite allows 32,766
// parameters; pages are at most 1,000 vendors).
const maxLinkIDs = 1000

// linksOf reads the subprocessor links of the vendors ids names.
func (s *DB) linksOf(ctx context.Context, ids []any) (map[string][]string, error) {
	return scanLinks(s.db.QueryContext(ctx, s.q(`SELECT vendor_id, subprocessor_id FROM vendor_subprocessors WHERE vendor_id IN (`+
		placeholders(len(ids))+`) ORDER BY vendor_id, subprocessor_id`), ids...))
}

// CountVendors counts the vendors f selects.
func (s *DB) CountVendors(ctx context.Context, f store.VendorFilter) (int64, error) {
	cond, args := s.vendorWhere(f)
	var n int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM vendors`+cond), args...).Scan(&n)
	return n, err
}

// vendorOrder is the ORDER BY of a VendorFilter.Sort.
func vendorOrder(by string) (string, error) {
	key, desc := strings.CutPrefix(by, "-")
	rank := func(col string, values []string) string {
		var b strings.Builder
		b.WriteString("CASE " + col)
		for i, v := range values {
			fmt.Fprintf(&b, " WHEN '%s' THEN %d", v, i)
		}
		fmt.Fprintf(&b, " ELSE %d END", len(values))
		return b.String()
	}
	var expr string
	switch key {
	case "", "id":
	case "name":
		expr = "LOWER(name)"
	case "category", "owner", "updated_at":
		expr = key
	case "status":
		expr = rank("status", inventory.VendorStatuses)
	case "criticality":
		// Not assessed ("") first, as in the CLI.
		expr = rank("criticality", append([]string{""}, inventory.Criticalities...))
	default:
		return "", fmt.Errorf("sort %q: use one of %s, with - before it for descending order", by, strings.Join(store.VendorSorts, ", "))
	}
	dir := ""
	if desc {
		dir = " DESC"
	}
	if expr == "" {
		return "id" + dir, nil
	}
	return expr + dir + ", id" + dir, nil
}

// vendorWhere is the WHERE clause of a VendorFilter and its arguments.
func (s *DB) vendorWhere(f store.VendorFilter) (string, []any) {
	var where []string
	var args []any
	if len(f.IDs) > 0 {
		where = append(where, "id IN ("+placeholders(len(f.IDs))+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Category != "" {
		where = append(where, "category = ?")
		args = append(args, f.Category)
	}
	if f.Tag != "" {
		// tags is a JSON array of strings; match the quoted element.
		where = append(where, "tags LIKE ? ESCAPE '\\'")
		args = append(args, "%"+escapeLike(marshalJSON(f.Tag))+"%")
	}
	if f.Text != "" {
		where = append(where, "(id "+s.d.Like+" ? ESCAPE '\\' OR name "+s.d.Like+" ? ESCAPE '\\' OR description "+s.d.Like+" ? ESCAPE '\\')")
		pat := "%" + escapeLike(f.Text) + "%"
		args = append(args, pat, pat, pat)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// GetSystem reads one system.
func (s *DB) GetSystem(ctx context.Context, id string) (inventory.System, error) {
	sys, err := scanSystem(s.db.QueryRowContext(ctx, s.q(`SELECT `+systemCols+` FROM systems WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return sys, notFound("system", id)
	}
	return sys, err
}

// ListSystems returns every system in id order.
func (s *DB) ListSystems(ctx context.Context) ([]inventory.System, error) {
	return list(ctx, s.db, scanSystem, `SELECT `+systemCols+` FROM systems ORDER BY id`)
}

// GetFlow reads one flow.
func (s *DB) GetFlow(ctx context.Context, id string) (inventory.Flow, error) {
	f, err := scanFlow(s.db.QueryRowContext(ctx, s.q(`SELECT `+flowCols+` FROM flows WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, notFound("flow", id)
	}
	return f, err
}

// ListFlows returns the flows matching f, in id order. The category filter
// uses the flow_categories index: the key itself and its ancestors by
// equality, its descendants by a byte range ("k." ≤ c < "k/").
func (s *DB) ListFlows(ctx context.Context, f store.FlowFilter) ([]inventory.Flow, error) {
	var where []string
	var args []any
	if f.Vendor != "" {
		where = append(where, "vendor_id = ?")
		args = append(args, f.Vendor)
	}
	if f.System != "" {
		where = append(where, "system_id = ?")
		args = append(args, f.System)
	}
	if f.Source != "" {
		where = append(where, "source = ?")
		args = append(args, f.Source)
	}
	if f.Category != "" {
		cond, cargs := categoryCondition("category", f.Category)
		where = append(where, "id IN (SELECT flow_id FROM flow_categories WHERE "+cond+")")
		args = append(args, cargs...)
	}
	query := `SELECT ` + flowCols + ` FROM flows`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id"
	return list(ctx, s.db, scanFlow, s.q(query), args...)
}

// categoryCondition matches a category column against key in the taxonomy's
// sense: the key itself and its ancestors by equality, its descendants by a
// byte range ("k." ≤ c < "k/"), which an index serves.
func categoryCondition(col, key string) (string, []any) {
	keys := append([]string{key}, taxonomy.Ancestors(key)...)
	args := make([]any, 0, len(keys)+2)
	for _, k := range keys {
		args = append(args, k)
	}
	args = append(args, key+".", key+"/")
	return "(" + col + " IN (" + placeholders(len(keys)) + ") OR (" + col + " >= ? AND " + col + " < ?))", args
}

// FlowMatches reads the flows carrying a category, with their vendors.
func (s *DB) FlowMatches(ctx context.Context, category string) ([]store.FlowMatch, error) {
	cond, args := categoryCondition("fc.category", category)
	return list(ctx, s.db, func(r scanner) (store.FlowMatch, error) {
		var m store.FlowMatch
		err := r.Scan(&m.Flow, &m.System, &m.Vendor, &m.Category, &m.VendorName, &m.VendorStatus, &m.VendorCategory)
		return m, err
	}, s.q(`SELECT fc.flow_id, fc.system_id, fc.vendor_id, fc.category, v.name, v.status, v.category
		FROM flow_categories fc
		JOIN vendors v ON v.id = fc.vendor_id
		WHERE `+cond), args...)
}

// SubprocessorLinks returns every vendor → subprocessors link.
func (s *DB) SubprocessorLinks(ctx context.Context) (map[string][]string, error) {
	return s.links(ctx, s.db)
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
