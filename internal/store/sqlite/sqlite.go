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
	"unsafe"

	"github.com/weaklink/weaklink/internal/store/sqlstore"
	"modernc.org/libc"
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
	d := Dialect()
	if dsn := DSN(path); !inMemory(dsn) {
		d.OpenScan = func(context.Context) (sqlstore.ScanConn, error) { return openScan(dsn) }
	}
	s := sqlstore.New(db, d, now)
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return s, nil
}

// inMemory reports whether a DSN names an in-memory database, which
// another connection would not see.
func inMemory(dsn string) bool {
	name, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	return name == "" || name == ":memory:" || strings.Contains(query, "mode=memory")
}

// scanPragmas set up a scan's connection: the pool's waits and memory map,
// a small page cache (a scan rereads few pages: 2 MiB rather than 64 reads
// as fast), and no writes.
var scanPragmas = []string{"busy_timeout = 10000", "mmap_size = 268435456", "cache_size = -2048", "query_only = 1"}

// openScan opens a connection for the ledger's long scans
// (sqlstore.Dialect.OpenScan) on SQLite's C interface, as modernc.org/sqlite
// compiles it to Go, beside the database/sql driver. The driver opens its
// connections SQLITE_OPEN_FULLMUTEX, and every call into SQLite, a step or
// a column of a row, then takes and releases the connection's mutex: in a
// scan, as much time again as SQLite's own work. A scan's connection is
// used by one goroutine at a time, so it is opened SQLITE_OPEN_NOMUTEX, and
// its values are read in place, without the driver's copy per column.
func openScan(dsn string) (sqlstore.ScanConn, error) {
	c := &scanConn{tls: libc.NewTLS()}
	name, err := libc.CString(dsn)
	if err != nil {
		c.Close()
		return nil, err
	}
	pdb := libc.Xmalloc(c.tls, 8)
	if pdb == 0 {
		libc.Xfree(c.tls, name)
		c.Close()
		return nil, errors.New("sqlite: out of memory")
	}
	rc := sqlite3lib.Xsqlite3_open_v2(c.tls, name, pdb,
		sqlite3lib.SQLITE_OPEN_READWRITE|sqlite3lib.SQLITE_OPEN_NOMUTEX|sqlite3lib.SQLITE_OPEN_URI, 0)
	c.db = *(*uintptr)(cmem(pdb))
	libc.Xfree(c.tls, pdb)
	libc.Xfree(c.tls, name)
	if rc != sqlite3lib.SQLITE_OK {
		err := c.error(rc)
		c.Close()
		return nil, err
	}
	for _, p := range scanPragmas {
		if err := c.Exec("PRAGMA " + p); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// cmem is SQLite's memory at p: the C heap, which the Go collector neither
// moves nor frees.
func cmem(p uintptr) unsafe.Pointer { return unsafe.Add(nil, p) }

// scanConn is a sqlstore.ScanConn.
type scanConn struct {
	tls   *libc.TLS
	db    uintptr
	stmts map[*scanStmt]bool
}

func (c *scanConn) error(rc int32) error {
	msg := ""
	if c.db != 0 {
		msg = libc.GoString(sqlite3lib.Xsqlite3_errmsg(c.tls, c.db))
	} else {
		msg = libc.GoString(sqlite3lib.Xsqlite3_errstr(c.tls, rc))
	}
	return fmt.Errorf("sqlite: %s (%d)", msg, rc)
}

func (c *scanConn) Exec(query string) error {
	q, err := libc.CString(query)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, q)
	if rc := sqlite3lib.Xsqlite3_exec(c.tls, c.db, q, 0, 0, 0); rc != sqlite3lib.SQLITE_OK {
		return c.error(rc)
	}
	return nil
}

func (c *scanConn) Prepare(query string) (sqlstore.ScanStmt, error) {
	q, err := libc.CString(query)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, q)
	pp := libc.Xmalloc(c.tls, 8)
	if pp == 0 {
		return nil, errors.New("sqlite: out of memory")
	}
	defer libc.Xfree(c.tls, pp)
	if rc := sqlite3lib.Xsqlite3_prepare_v3(c.tls, c.db, q, -1, sqlite3lib.SQLITE_PREPARE_PERSISTENT, pp, 0); rc != sqlite3lib.SQLITE_OK {
		return nil, c.error(rc)
	}
	st := &scanStmt{c: c, p: *(*uintptr)(cmem(pp))}
	if st.p == 0 {
		return nil, fmt.Errorf("sqlite: no statement in %q", query)
	}
	if c.stmts == nil {
		c.stmts = map[*scanStmt]bool{}
	}
	c.stmts[st] = true
	return st, nil
}

func (c *scanConn) Close() error {
	if c.tls == nil {
		return nil
	}
	for st := range c.stmts {
		st.Close()
	}
	var err error
	if c.db != 0 {
		if rc := sqlite3lib.Xsqlite3_close_v2(c.tls, c.db); rc != sqlite3lib.SQLITE_OK {
			err = c.error(rc)
		}
		c.db = 0
	}
	c.tls.Close()
	c.tls = nil
	return err
}

// scanStmt is a sqlstore.ScanStmt.
type scanStmt struct {
	c *scanConn
	p uintptr
}

func (s *scanStmt) Start(args ...any) error {
	tls := s.c.tls
	// The error of the run before was Next's.
	sqlite3lib.Xsqlite3_reset(tls, s.p)
	for i, a := range args {
		var rc int32
		switch v := a.(type) {
		case string:
			p, err := libc.CString(v)
			if err != nil {
				return err
			}
			rc = sqlite3lib.Xsqlite3_bind_text(tls, s.p, int32(i+1), p, int32(len(v)), sqlite3lib.SQLITE_TRANSIENT)
			libc.Xfree(tls, p)
		case int64:
			rc = sqlite3lib.Xsqlite3_bind_int64(tls, s.p, int32(i+1), v)
		default:
			return fmt.Errorf("sqlite: cannot bind %T", a)
		}
		if rc != sqlite3lib.SQLITE_OK {
			return s.c.error(rc)
		}
	}
	return nil
}

func (s *scanStmt) Next() (bool, error) {
	switch rc := sqlite3lib.Xsqlite3_step(s.c.tls, s.p); rc {
	case sqlite3lib.SQLITE_ROW:
		return true, nil
	case sqlite3lib.SQLITE_DONE:
		return false, nil
	default:
		return false, s.c.error(rc)
	}
}

func (s *scanStmt) Kind(i int) sqlstore.ScanKind {
	switch sqlite3lib.Xsqlite3_column_type(s.c.tls, s.p, int32(i)) {
	case sqlite3lib.SQLITE_INTEGER:
		return sqlstore.ScanInt
	case sqlite3lib.SQLITE_FLOAT:
		return sqlstore.ScanFloat
	case sqlite3lib.SQLITE_TEXT:
		return sqlstore.ScanText
	case sqlite3lib.SQLITE_BLOB:
		return sqlstore.ScanBlob
	}
	return sqlstore.ScanNull
}

func (s *scanStmt) Text(i int) []byte {
	p := sqlite3lib.Xsqlite3_column_text(s.c.tls, s.p, int32(i))
	if p == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(cmem(p)), sqlite3lib.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i)))
}

func (s *scanStmt) Int(i int) int64 { return sqlite3lib.Xsqlite3_column_int64(s.c.tls, s.p, int32(i)) }

func (s *scanStmt) Close() error {
	if s.p == 0 {
		return nil
	}
	sqlite3lib.Xsqlite3_finalize(s.c.tls, s.p)
	s.p = 0
	delete(s.c.stmts, s)
	return nil
}
