// Package sqlstore implements store.Store over database/sql. The SQLite and
// PostgreSQL backends are this package plus a Dialect: the SQL is written
// once, with ? placeholders, in the subset both databases share.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// Dialect is what differs between the databases.
type Dialect struct {
	Name string
	// Numbered placeholders ($1) instead of ?.
	Numbered bool
	// Migrations holds NNNN_name.sql files, applied in order.
	Migrations fs.FS
	// MaxParams bounds the parameters of one statement.
	MaxParams int
	// LockMigrations is run first in the migration transaction to keep two
	// processes from migrating at once ("" when the transaction already does).
	LockMigrations string
	// Time converts a time to the value stored; ParseTime reads it back.
	Time func(time.Time) any
	// Conflict reports whether err is a constraint violation (unique key,
	// foreign key) that means the caller's view of the data was stale.
	Conflict func(err error) bool
	// SnapshotTx are the options of read transactions that must see one state.
	SnapshotTx sql.TxOptions
	// Like is the case-insensitive LIKE operator.
	Like string
	// Analyze refreshes the query planner's statistics after a large write.
	Analyze string
	// Greatest and Least are the two-argument maximum and minimum functions.
	Greatest, Least string
	// RawQuery, when set, runs a query through the driver's own interface
	// and hands fn each row's raw column values (binary[i] tells the
	// format of column i: PostgreSQL's binary encoding, else text), for
	// scans of millions of rows where database/sql's per-column
	// conversions are most of the cost. The row's slices are valid only
	// during the call.
	RawQuery func(ctx context.Context, db *sql.DB, query string, args []any, fn func(row [][]byte, binary []bool) error) error
	// OpenScan, when set, opens a read-only connection of the driver's
	// own, outside database/sql's pool, for the ledger scans of millions of
	// rows: several of them, in one snapshot, read a ledger's key ranges
	// at once (see scanChunks). An error leaves the scan to database/sql.
	OpenScan func(ctx context.Context) (ScanConn, error)
	// LockRow is appended to a SELECT of one row to lock it for the rest of
	// the transaction (" FOR UPDATE"), or "" where write transactions are
	// serialized anyway.
	LockRow string
}

// DB is a store.Store on a database/sql handle.
type DB struct {
	db  *sql.DB
	d   Dialect
	now func() time.Time
}

var _ store.Store = (*DB)(nil)

// New wraps an open database. now may be nil (time.Now).
func New(db *sql.DB, d Dialect, now func() time.Time) *DB {
	if now == nil {
		now = time.Now
	}
	return &DB{db: db, d: d, now: now}
}

// SQL exposes the handle, for backend-specific tests and tools.
func (s *DB) SQL() *sql.DB { return s.db }

// Backend names the database.
func (s *DB) Backend() string { return s.d.Name }

// Close closes the database handle.
func (s *DB) Close() error { return s.db.Close() }

// q rewrites ? placeholders for the dialect.
func (s *DB) q(query string) string {
	if !s.d.Numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (s *DB) inTx(ctx context.Context, opts *sql.TxOptions, fn func(*sql.Tx) error) (err error) {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", s.d.Name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return s.mapErr(fmt.Errorf("%s: commit: %w", s.d.Name, err))
	}
	return nil
}

func (s *DB) mapErr(err error) error {
	if err != nil && s.d.Conflict != nil && s.d.Conflict(err) && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}

// ---- migrations

type migration struct {
	version int
	name    string
	sql     string
}

func (s *DB) migrations() ([]migration, error) {
	entries, err := fs.ReadDir(s.d.Migrations, ".")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", e.Name())
		}
		b, err := fs.ReadFile(s.d.Migrations, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{v, e.Name(), string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := range out {
		if out[i].version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %04d", out[i].name, i+1)
		}
	}
	return out, nil
}

// Migrate applies pending migrations, each in its own transaction.
func (s *DB) Migrate(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		// Two processes may race to create the table; the loser sees it exist.
		if _, err2 := s.SchemaVersion(ctx); err2 != nil {
			return fmt.Errorf("%s: create schema_migrations: %w", s.d.Name, err)
		}
	}
	for _, m := range ms {
		err := s.inTx(ctx, nil, func(tx *sql.Tx) error {
			if s.d.LockMigrations != "" {
				if _, err := tx.ExecContext(ctx, s.d.LockMigrations); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, s.now().UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", s.d.Name, err)
		}
	}
	return nil
}

// SchemaVersion is the highest applied migration.
func (s *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

// ---- reading

const vendorCols = `id, name, legal_entity, website, domains, category, owner, status, criticality, description, tags, catalog, revision, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanVendor(r scanner) (inventory.Vendor, error) {
	var v inventory.Vendor
	var domains, tags string
	err := r.Scan(&v.ID, &v.Name, &v.LegalEntity, &v.Website, &domains, &v.Category, &v.Owner, &v.Status,
		&v.Criticality, &v.Description, &tags, &v.Catalog, &v.Revision, timeDest{&v.CreatedAt}, timeDest{&v.UpdatedAt})
	if err != nil {
		return v, err
	}
	if err := unmarshalList(domains, &v.Domains); err != nil {
		return v, err
	}
	return v, unmarshalList(tags, &v.Tags)
}

const systemCols = `id, name, description, owner, environment, repository, tags, revision, created_at, updated_at`

func scanSystem(r scanner) (inventory.System, error) {
	var s inventory.System
	var tags string
	err := r.Scan(&s.ID, &s.Name, &s.Description, &s.Owner, &s.Environment, &s.Repository, &tags,
		&s.Revision, timeDest{&s.CreatedAt}, timeDest{&s.UpdatedAt})
	if err != nil {
		return s, err
	}
	return s, unmarshalList(tags, &s.Tags)
}

const flowCols = `id, system_id, vendor_id, categories, subjects, purpose, legal_basis, estimated_subjects, source, evidence, first_seen, last_seen, description, revision, created_at, updated_at`

func scanFlow(r scanner) (inventory.Flow, error) {
	var f inventory.Flow
	var cats, subjects, evidence string
	err := r.Scan(&f.ID, &f.System, &f.Vendor, &cats, &subjects, &f.Purpose, &f.LegalBasis, &f.EstimatedSubjects,
		&f.Source, &evidence, nullTimeDest{&f.FirstSeen}, nullTimeDest{&f.LastSeen}, &f.Description,
		&f.Revision, timeDest{&f.CreatedAt}, timeDest{&f.UpdatedAt})
	if err != nil {
		return f, err
	}
	if err := unmarshalList(cats, &f.Categories); err != nil {
		return f, err
	}
	if err := unmarshalList(subjects, &f.Subjects); err != nil {
		return f, err
	}
	if evidence != "" && evidence != "[]" {
		if err := json.Unmarshal([]byte(evidence), &f.Evidence); err != nil {
			return f, fmt.Errorf("flow %s: evidence: %w", f.ID, err)
		}
	}
	return f, nil
}

// list runs a query and scans every row.
func list[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *DB) links(ctx context.Context, q querier) (map[string][]string, error) {
	return scanLinks(q.QueryContext(ctx, `SELECT vendor_id, subprocessor_id FROM vendor_subprocessors ORDER BY vendor_id, subprocessor_id`))
}

// scanLinks reads (vendor, subprocessor) rows into a map.
func scanLinks(rows *sql.Rows, err error) (map[string][]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var v, sp string
		if err := rows.Scan(&v, &sp); err != nil {
			return nil, err
		}
		out[v] = append(out[v], sp)
	}
	return out, rows.Err()
}

// Snapshot reads everything in one read transaction.
func (s *DB) Snapshot(ctx context.Context) (store.Snapshot, error) {
	var snap store.Snapshot
	opts := s.d.SnapshotTx
	err := s.inTx(ctx, &opts, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT version FROM inventory_state WHERE id = 1`).Scan(&snap.Version); err != nil {
			return err
		}
		vendors, err := list(ctx, tx, scanVendor, `SELECT `+vendorCols+` FROM vendors ORDER BY id`)
		if err != nil {
			return err
		}
		links, err := s.links(ctx, tx)
		if err != nil {
			return err
		}
		for i := range vendors {
			vendors[i].Subprocessors = links[vendors[i].ID]
		}
		snap.Vendors = vendors
		if snap.Systems, err = list(ctx, tx, scanSystem, `SELECT `+systemCols+` FROM systems ORDER BY id`); err != nil {
			return err
		}
		snap.Flows, err = list(ctx, tx, scanFlow, `SELECT `+flowCols+` FROM flows ORDER BY id`)
		return err
	})
	return snap, err
}
