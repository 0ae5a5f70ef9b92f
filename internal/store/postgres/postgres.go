// Package postgres is weaklink's database for larger installs: PostgreSQL
// through pgx's database/sql driver. Several weaklink processes may share one
// database.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	"github.com/weaklink/weaklink/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is PostgreSQL's SQL dialect.
func Dialect() sqlstore.Dialect {
	sub, _ := fs.Sub(migrations, "migrations")
	return sqlstore.Dialect{
		Name:       "postgres",
		Numbered:   true,
		Migrations: sub,
		MaxParams:  65535,
		// A transaction-scoped advisory lock: one migrator at a time.
		LockMigrations: `SELECT pg_advisory_xact_lock(7706190)`,
		Time:           sqlstore.NativeTime,
		Conflict:       isConflict,
		SnapshotTx:     sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		Like:           "ILIKE",
		LockRow:        " FOR UPDATE",
		RawQuery:       rawQuery,
		Analyze:        "ANALYZE vendors, vendor_subprocessors, systems, flows, flow_categories",
		Greatest:       "GREATEST",
		Least:          "LEAST",
	}
}

func isConflict(err error) bool {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case "23505", "23503", "40001": // unique_violation, foreign_key_violation, serialization_failure
		return true
	}
	return false
}

// rawQuery runs a query on one of the pool's connections through pgx
// itself, handing fn each row's raw values: pgx sends timestamps and
// integers in PostgreSQL's binary format, text as bytes, and nothing is
// converted per column on the way (see sqlstore.Dialect.RawQuery).
func rawQuery(ctx context.Context, db *sql.DB, query string, args []any, fn func(row [][]byte, binary []bool) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres: driver connection is %T, not pgx's", dc)
		}
		rows, err := c.Conn().Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		fds := rows.FieldDescriptions()
		bin := make([]bool, len(fds))
		for i, fd := range fds {
			bin[i] = fd.Format == pgtype.BinaryFormatCode
		}
		for rows.Next() {
			if err := fn(rows.RawValues(), bin); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// IsURL reports whether a --db value names a PostgreSQL database.
func IsURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to the database at url and migrates it.
func Open(ctx context.Context, url string, now func() time.Time) (*sqlstore.DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: cannot connect: %w", err)
	}
	s := sqlstore.New(db, Dialect(), now)
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}
