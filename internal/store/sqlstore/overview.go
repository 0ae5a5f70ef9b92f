package sqlstore

import (
	"context"
	"database/sql"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// Overview runs the dashboard's aggregates in one read-only snapshot, so
// its numbers agree with each other.
func (s *DB) Overview(ctx context.Context) (store.Overview, error) {
	var o store.Overview
	opts := s.d.SnapshotTx
	err := s.inTx(ctx, &opts, func(tx *sql.Tx) error {
		var err error
		if o.Vendors, err = list(ctx, tx, func(r scanner) (store.VendorCount, error) {
			var c store.VendorCount
			return c, r.Scan(&c.Category, &c.Status, &c.N)
		}, `SELECT category, status, COUNT(*) FROM vendors GROUP BY category, status ORDER BY category, status`); err != nil {
			return err
		}
		if o.Categories, err = list(ctx, tx, func(r scanner) (store.CategoryCount, error) {
			var c store.CategoryCount
			return c, r.Scan(&c.Category, &c.Flows, &c.Vendors)
		}, `SELECT category, COUNT(*), COUNT(DISTINCT vendor_id) FROM flow_categories GROUP BY category ORDER BY category`); err != nil {
			return err
		}
		if o.Sources, err = list(ctx, tx, func(r scanner) (store.SourceCount, error) {
			var c store.SourceCount
			return c, r.Scan(&c.Source, &c.N)
		}, `SELECT source, COUNT(*) FROM flows GROUP BY source ORDER BY source`); err != nil {
			return err
		}
		if o.Recent, err = list(ctx, tx, scanFlow,
			`SELECT `+flowCols+` FROM flows WHERE source IN ('discovered', 'observed') ORDER BY updated_at DESC, id LIMIT 10`); err != nil {
			return err
		}
		o.Gateway, err = list(ctx, tx, func(r scanner) (store.ActionTotal, error) {
			var a store.ActionTotal
			return a, r.Scan(&a.Vendor, &a.Action, &a.Count)
		}, `SELECT vendor_id, action, SUM(count) FROM ledger_actions GROUP BY vendor_id, action ORDER BY vendor_id, action`)
		return err
	})
	if o.Vendors == nil {
		o.Vendors = []store.VendorCount{}
	}
	if o.Categories == nil {
		o.Categories = []store.CategoryCount{}
	}
	if o.Sources == nil {
		o.Sources = []store.SourceCount{}
	}
	if o.Recent == nil {
		o.Recent = []inventory.Flow{}
	}
	if o.Gateway == nil {
		o.Gateway = []store.ActionTotal{}
	}
	return o, err
}
