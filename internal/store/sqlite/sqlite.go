// Package sqlite is weaklink's embedded default database: SQLite through a
// pure-Go driver (modernc.org/sqlite), in WAL mode, so the binary stays
// static (CGO_ENABLED=0).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/store/sqlstore"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is SQLite's SQL dialect.
func Dialect() sqlstore.Dialect {
	sub, _ := fs.Sub(migrations, "migrations")
	return sqlstore.Dialect{
		Name:       "sqlite",
		Migrations: sub,
		MaxParams:  32766,
		Time:       sqlstore.TextTime,
		Conflict:   isConflict,
		// A read-only transaction starts deferred: in WAL mode it reads one
		// snapshot without blocking writers.
		SnapshotTx: sql.TxOptions{ReadOnly: true},
		Like:       "LIKE",
		Analyze:    "PRAGMA optimize",
		Greatest:   "max",
		Least:      "min",
	}
}

func isConflict(err error) bool {
	var e *sqlite3.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3lib.SQLITE_CONSTRAINT_UNIQUE, sqlite3lib.SQLITE_CONSTRAINT_FOREIGNKEY:
		return true
	}
	return false
}

// DSN builds the driver's connection string for a database file: WAL,
// foreign keys on, a 10 s busy timeout, write transactions that take the
// write lock when they begin (BEGIN IMMEDIATE), so concurrent writers queue
// instead of failing to upgrade a read lock, and a 64 MiB page cache with
// memory-mapped reads, so large inventories are read from memory.
func DSN(path string) string {
	path = strings.TrimPrefix(path, "sqlite://")
	path = strings.TrimPrefix(path, "sqlite:")
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "cache_size(-65536)")
	q.Add("_pragma", "mmap_size(268435456)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database file at path and migrates it.
func Open(ctx context.Context, path string, now func() time.Time) (*sqlstore.DB, error) {
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	s := sqlstore.New(db, Dialect(), now)
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return s, nil
}
