// Command incident measures the incident blast radius at scale: the time,
// CPU and peak memory of
//
//	weaklink incident blast-radius ID --csv FILE --format json
//
// over a generated ledger of N rows (default 10 million) for the breached
// vendor (mixpanel), on SQLite and on PostgreSQL. The target is under 5 s
// on either backend, with memory that does not grow with the number of
// rows; so each backend is also measured at a smaller N and the two peak
// RSS figures are compared.
//
// Each measured run is a fresh child process (this program run again with
// a hidden flag) that calls the command line's own entry point, so the
// figures are those of the real command: the store opens, the incident is
// read, the blast radius streams the ledger and the CSV is written and
// synced, and a note goes on the timeline. Loading the ledger is timed
// apart and is not part of the target.
//
// The ledger is N/5 subjects (32 hex digits, as the gateway's keyed hash)
// × 5 categories, seen between 2025-10-01 and 2025-12-01, and every other
// subject has a recorded residence. The incident states four of the five
// categories and its window covers the data. Rows are loaded in key order,
// with the secondary indexes built afterwards: the fastest load, and the
// best case for the scan, which follows the key. A ledger grown by a
// gateway's upserts lies in arrival order, and its scan reads less
// sequentially.
//
//	go run ./bench/incident                          # 1M and 10M rows, both backends
//	go run ./bench/incident -rows 2000000 -small 0 -backends sqlite
//	go run ./bench/incident -keep /var/tmp/wl-bench  # keep and reuse the SQLite files
//	go run ./bench/incident -cpuprofile cpu.out      # profile the last run of each size
//
// Run it from the repository root (it reads examples/acme). PostgreSQL
// is the server at $WEAKLINK_BENCH_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); the ledger
// goes into a fresh schema that is dropped afterwards, unless -pgschema
// names one to keep and reuse.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/weaklink/weaklink/internal/cli"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/sqlite"
	"github.com/weaklink/weaklink/internal/store/sqlstore"
)

// The generated ledger: one vendor, each subject sent these categories,
// seen within [dataFrom, dataTo).
const vendor = "mixpanel"

var (
	categories = []string{ // in key order
		"user.account.settings",
		"user.contact.email",
		"user.location.imprecise",
		"user.name",
		"user.unique_id.pseudonymous",
	}
	// stated are the categories the incident says were exposed: all but
	// user.account.settings, which the blast radius reports as unmentioned.
	stated        = []string{"user.name", "user.contact.email", "user.unique_id", "user.location.imprecise"}
	jurisdictions = []string{"DE", "FR", "GB", "NL", "ES", "IT", "US-CA", "US-TX", "US-NY", "CA-ON"}
	dataFrom      = time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	dataTo        = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
)

const benchTitle = "bench/incident: Mixpanel analytics dataset exported"

func main() {
	rows := flag.Int("rows", 10_000_000, "ledger rows for the breached vendor (the target's size)")
	small := flag.Int("small", 1_000_000, "a smaller ledger measured too, to show memory does not grow with rows (0: skip)")
	backends := flag.String("backends", "sqlite,postgres", "backends to measure, comma-separated")
	runs := flag.Int("runs", 3, "measured runs per backend and size, each a fresh process; the median is reported")
	keep := flag.String("keep", "", "keep the SQLite databases in this directory and reuse them on later runs")
	pgURL := flag.String("pg", envOr("WEAKLINK_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server ($WEAKLINK_BENCH_POSTGRES_URL)")
	pgSchema := flag.String("pgschema", "", "load into this PostgreSQL schema (suffixed with the row count), keep it and reuse it on later runs")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the last measured run of each backend and size to FILE.BACKEND.ROWS")
	childDB := flag.String("child-db", "", "internal: run the blast radius in this database and report")
	childID := flag.String("child-incident", "", "internal: the incident")
	childCSV := flag.String("child-csv", "", "internal: the CSV file")
	flag.Parse()
	if *childDB != "" {
		child(*childDB, *childID, *childCSV, *cpuProfile)
		return
	}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		cleanup()
		os.Exit(130)
	}()
	sizes := []int{*rows}
	if *small > 0 && *small < *rows {
		sizes = []int{*small, *rows}
	}
	var results []result
	for _, b := range strings.Split(*backends, ",") {
		for _, n := range sizes {
			var db *benchDB
			switch strings.TrimSpace(b) {
			case "sqlite":
				db = prepareSQLite(n, *keep)
			case "postgres":
				db = preparePostgres(n, *pgURL, *pgSchema)
			default:
				check(fmt.Errorf("unknown backend %q", b))
			}
			prof := ""
			if *cpuProfile != "" {
				prof = fmt.Sprintf("%s.%s.%d", *cpuProfile, db.backend, n)
			}
			r := measure(db, n, *runs, prof)
			results = append(results, r)
			db.close()
		}
	}
	report(results)
	cleanup()
}

// benchDB is a loaded database.
type benchDB struct {
	backend  string
	dsn      string // what --db takes
	incident string
	load     time.Duration // 0: reused
	dir      string        // for the CSV files
	close    func()
}

// cleanups run at exit, also on an error or an interrupt.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func atExit(f func()) {
	cleanupMu.Lock()
	cleanups = append(cleanups, f)
	cleanupMu.Unlock()
}

func cleanup() {
	cleanupMu.Lock()
	fs := cleanups
	cleanups = nil
	cleanupMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// --- data ---

// subjects returns n ledger subjects as the gateway keys them (32 hex
// digits of a keyed hash), sorted.
func subjects(n int) []string {
	out := make([]string, n)
	var b [16]byte
	for i := range out {
		binary.BigEndian.PutUint64(b[:8], mix(uint64(i)))
		binary.BigEndian.PutUint64(b[8:], mix(uint64(i)^0x9e3779b97f4a7c15))
		out[i] = hex.EncodeToString(b[:])
	}
	slices.Sort(out)
	return out
}

// mix is splitmix64's finaliser: a cheap, deterministic scramble.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// row is the i-th ledger row: subject i/5, category i%5, in key order.
type row struct {
	subject, category   string
	firstSeen, lastSeen time.Time
	messages            int64
}

func ledgerRow(subs []string, i int) row {
	h := mix(uint64(i) + 1)
	span := uint64(dataTo.Sub(dataFrom) / time.Second)
	first := h % span
	last := first + (h>>32)%(span-first)
	return row{
		subject:   subs[i/len(categories)],
		category:  categories[i%len(categories)],
		firstSeen: dataFrom.Add(time.Duration(first) * time.Second),
		lastSeen:  dataFrom.Add(time.Duration(last) * time.Second),
		messages:  int64(1 + h%200),
	}
}

// residence is where every other subject lives; the rest are unknown.
func residence(subs []string, i int) (store.Residence, bool) {
	if i%2 != 0 {
		return store.Residence{}, false
	}
	return store.Residence{Subject: subs[i], ExternalID: "acct-" + strconv.Itoa(i),
		Jurisdiction: jurisdictions[mix(uint64(i))%uint64(len(jurisdictions))]}, true
}

// setup loads the acme inventory and opens the incident.
func setup(ctx context.Context, s store.Store) string {
	svc := service.New(s)
	doc, err := inventory.LoadPaths("examples/acme")
	check(err)
	plan, base, err := svc.Plan(ctx, doc, false)
	check(err)
	check(svc.ApplyPlan(ctx, base, plan))
	return openIncident(ctx, svc)
}

// openIncident opens the benchmark's incident, or finds it in a reused
// database.
func openIncident(ctx context.Context, svc *service.Service) string {
	list, err := svc.Store.ListIncidents(ctx, store.IncidentFilter{Vendor: vendor})
	check(err)
	for _, in := range list {
		if in.Title == benchTitle {
			return in.ID
		}
	}
	in, err := svc.OpenIncident(ctx, incident.Incident{Vendor: vendor, Title: benchTitle, Severity: "high",
		Categories: slices.Clone(stated), WindowFrom: dataFrom, WindowTo: dataTo}, "bench")
	check(err)
	return in.ID
}

// --- SQLite ---

func prepareSQLite(n int, keep string) *benchDB {
	ctx := context.Background()
	dir := keep
	if dir == "" {
		d, err := os.MkdirTemp("", "weaklink-bench-incident-")
		check(err)
		atExit(func() { os.RemoveAll(d) })
		dir = d
	} else {
		check(os.MkdirAll(dir, 0o755))
	}
	path := filepath.Join(dir, fmt.Sprintf("incident-%d.db", n))
	done := path + ".loaded"
	b := &benchDB{backend: "sqlite", dsn: path, dir: dir, close: func() {}}
	if keep == "" {
		b.close = func() { os.RemoveAll(dir) }
	}
	if _, err := os.Stat(done); err == nil {
		fmt.Printf("sqlite: reusing %s (%d rows)\n", path, n)
		s, err := sqlite.Open(ctx, path, nil)
		check(err)
		b.incident = openIncident(ctx, service.New(s))
		check(s.Close())
		return b
	}
	for _, suffix := range []string{"", "-wal", "-shm", ".loaded"} {
		_ = os.Remove(path + suffix)
	}
	fmt.Printf("sqlite: loading %d ledger rows into %s ...\n", n, path)
	began := time.Now()
	s, err := sqlite.Open(ctx, path, nil)
	check(err)
	b.incident = setup(ctx, s)
	check(s.Close())
	check(loadSQLite(ctx, path, n))
	b.load = time.Since(began)
	fi, err := os.Stat(path)
	check(err)
	fmt.Printf("sqlite: loaded in %v (%.0f MB)\n", b.load.Round(time.Millisecond), float64(fi.Size())/1e6)
	if keep != "" {
		check(os.WriteFile(done, nil, 0o644))
	}
	return b
}

// loadSQLite writes the ledger and residences in one transaction of
// prepared multi-row INSERTs in key order, without a journal, with the
// ledger's secondary indexes dropped first and built again at the end:
// the fastest way in. The database is left in WAL mode, as the store
// opens it.
func loadSQLite(ctx context.Context, path string, n int) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(q string, args ...any) error {
		_, err := conn.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		return nil
	}
	for _, p := range []string{"PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA cache_size=-262144", "PRAGMA foreign_keys=OFF"} {
		if err := exec(p); err != nil {
			return err
		}
	}
	indexes, err := dropIndexes(ctx, conn,
		`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger' AND sql IS NOT NULL`)
	if err != nil {
		return err
	}
	if err := exec("BEGIN"); err != nil {
		return err
	}
	subs := subjects((n + len(categories) - 1) / len(categories))
	const per = 1000
	const cols = 6
	stmt, err := conn.PrepareContext(ctx, `INSERT INTO ledger (vendor_id, subject, category, first_seen, last_seen, messages) VALUES `+
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", per), ", "))
	if err != nil {
		return err
	}
	args := make([]any, 0, per*cols)
	flushRows := func(st *sql.Stmt) error {
		if len(args) == 0 {
			return nil
		}
		if len(args) < per*cols {
			q := `INSERT INTO ledger (vendor_id, subject, category, first_seen, last_seen, messages) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(args)/cols), ", ")
			_, err := conn.ExecContext(ctx, q, args...)
			args = args[:0]
			return err
		}
		_, err := st.ExecContext(ctx, args...)
		args = args[:0]
		return err
	}
	for i := range n {
		r := ledgerRow(subs, i)
		args = append(args, vendor, r.subject, r.category, sqlstore.TextTime(r.firstSeen), sqlstore.TextTime(r.lastSeen), r.messages)
		if len(args) == per*cols {
			if err := flushRows(stmt); err != nil {
				return err
			}
		}
		if i > 0 && i%2_000_000 == 0 {
			fmt.Printf("  %d rows\n", i)
		}
	}
	if err := flushRows(stmt); err != nil {
		return err
	}
	stmt.Close()
	res, err := conn.PrepareContext(ctx, `INSERT INTO subject_residence (subject, external_id, jurisdiction) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := range subs {
		if r, ok := residence(subs, i); ok {
			if _, err := res.ExecContext(ctx, r.Subject, r.ExternalID, r.Jurisdiction); err != nil {
				return err
			}
		}
	}
	res.Close()
	if err := exec("COMMIT"); err != nil {
		return err
	}
	for _, q := range indexes {
		if err := exec(q); err != nil {
			return err
		}
	}
	return exec("PRAGMA journal_mode=WAL")
}

// dropIndexes drops the indexes the query lists (name, definition) and
// returns their definitions.
func dropIndexes(ctx context.Context, conn *sql.Conn, query string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, name)
		defs = append(defs, def)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, err := conn.ExecContext(ctx, `DROP INDEX `+name); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// --- PostgreSQL ---

func preparePostgres(n int, base, keepSchema string) *benchDB {
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	check(err)
	check(admin.PingContext(ctx))
	schema := keepSchema
	if schema == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		schema = "wl_bench_" + hex.EncodeToString(b[:])
	} else {
		schema = fmt.Sprintf("%s_%d", schema, n)
	}
	u, err := url.Parse(base)
	check(err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dir, err := os.MkdirTemp("", "weaklink-bench-incident-")
	check(err)
	atExit(func() { os.RemoveAll(dir) })
	b := &benchDB{backend: "postgres", dsn: u.String(), dir: dir}
	b.close = func() { admin.Close() }
	marker := fmt.Sprintf("weaklink bench/incident: %d rows", n)
	if keepSchema != "" {
		var comment sql.NullString
		err := admin.QueryRowContext(ctx, `SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1`, schema).Scan(&comment)
		if err == nil && comment.String == marker {
			fmt.Printf("postgres: reusing schema %s (%d rows)\n", schema, n)
			s, err := cli.OpenStore(ctx, b.dsn, nil)
			check(err)
			b.incident = openIncident(ctx, service.New(s))
			check(s.Close())
			return b
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			check(err)
		}
		_, err = admin.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
		check(err)
	}
	_, err = admin.ExecContext(ctx, `CREATE SCHEMA `+schema)
	check(err)
	if keepSchema == "" {
		drop := func() { _, _ = admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) }
		atExit(drop)
		b.close = func() {
			drop()
			admin.Close()
		}
	}
	fmt.Printf("postgres: loading %d ledger rows into schema %s ...\n", n, schema)
	began := time.Now()
	s, err := cli.OpenStore(ctx, b.dsn, nil)
	check(err)
	b.incident = setup(ctx, s)
	check(s.Close())
	check(loadPostgres(ctx, b.dsn, schema, n))
	b.load = time.Since(began)
	var size int64
	check(admin.QueryRowContext(ctx, `SELECT pg_total_relation_size($1)`, schema+".ledger").Scan(&size))
	fmt.Printf("postgres: loaded in %v (ledger %.0f MB with indexes)\n", b.load.Round(time.Millisecond), float64(size)/1e6)
	if keepSchema != "" {
		_, err = admin.ExecContext(ctx, `COMMENT ON SCHEMA `+schema+` IS '`+marker+`'`)
		check(err)
	}
	return b
}

// loadPostgres copies the ledger and residences in (COPY FROM STDIN, in key
// order) with the ledger's secondary indexes dropped first and built again
// at the end, then vacuums and analyzes, as autovacuum would soon after.
func loadPostgres(ctx context.Context, dsn, schema string, n int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rs, err := conn.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = $1 AND tablename = 'ledger' AND indexname <> 'ledger_pkey'`, schema)
	if err != nil {
		return err
	}
	var names, defs []string
	for rs.Next() {
		var name, def string
		if err := rs.Scan(&name, &def); err != nil {
			return err
		}
		names = append(names, name)
		defs = append(defs, def)
	}
	if err := rs.Err(); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := conn.Exec(ctx, `DROP INDEX `+pgx.Identifier{schema, name}.Sanitize()); err != nil {
			return err
		}
	}
	subs := subjects((n + len(categories) - 1) / len(categories))
	i := 0
	vals := make([]any, 6)
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"ledger"},
		[]string{"vendor_id", "subject", "category", "first_seen", "last_seen", "messages"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			r := ledgerRow(subs, i)
			i++
			if i%2_000_000 == 0 {
				fmt.Printf("  %d rows\n", i)
			}
			vals[0], vals[1], vals[2], vals[3], vals[4], vals[5] = vendor, r.subject, r.category, r.firstSeen, r.lastSeen, r.messages
			return vals, nil
		}))
	if err != nil {
		return err
	}
	if copied != int64(n) {
		return fmt.Errorf("copied %d rows, want %d", copied, n)
	}
	j := 0
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"subject_residence"}, []string{"subject", "external_id", "jurisdiction"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for j < len(subs) {
				r, ok := residence(subs, j)
				j++
				if ok {
					return []any{r.Subject, r.ExternalID, r.Jurisdiction}, nil
				}
			}
			return nil, nil
		})); err != nil {
		return err
	}
	for _, def := range defs {
		if _, err := conn.Exec(ctx, def); err != nil {
			return err
		}
	}
	_, err = conn.Exec(ctx, `VACUUM ANALYZE ledger, subject_residence`)
	return err
}

// --- measurement ---

// result is one backend and size: the median of its runs.
type result struct {
	backend   string
	rows      int
	load      time.Duration
	runs      int
	wall, cpu time.Duration
	// machineCPU is every process's CPU time during the run: the child's,
	// the database server's, and anything else running.
	machineCPU time.Duration
	rssMB      float64
	child      childReport
	csvBytes   int64
	csvLines   int64
}

// childReport is what a child prints: what the command reported.
type childReport struct {
	Exit    int           `json:"exit"`
	Stderr  string        `json:"stderr,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"` // cli.Main alone
	// PeakKB is the child's VmHWM: the rusage of a child started by
	// os/exec counts the parent's memory at the fork too.
	PeakKB int64 `json:"peak_kb"`
	// AnonKB and FileKB are the peaks of the two parts of the resident
	// set, sampled every 10 ms: anonymous memory (Go's heap, SQLite's page
	// cache) and mapped files (the binary; SQLite's memory-mapped
	// database, up to its mmap_size).
	AnonKB   int64    `json:"anon_kb"`
	FileKB   int64    `json:"file_kb"`
	Subjects int64    `json:"subjects"`
	Rows     int64    `json:"ledger_rows"`
	Exposed  []string `json:"exposed"`
}

func measure(db *benchDB, n, runs int, profile string) result {
	self, err := os.Executable()
	check(err)
	csvPath := filepath.Join(db.dir, "affected.csv")
	var rs []result
	for i := range max(1, runs) {
		args := []string{"-child-db", db.dsn, "-child-incident", db.incident, "-child-csv", csvPath}
		if profile != "" && i == runs-1 {
			args = append(args, "-cpuprofile", profile)
		}
		cmd := exec.Command(self, args...)
		cmd.Stderr = os.Stderr
		busy := busyCPU()
		began := time.Now()
		out, err := cmd.Output()
		wall := time.Since(began)
		busy = busyCPU() - busy
		check(err)
		var rep childReport
		check(json.Unmarshal(out, &rep))
		if rep.Exit != 0 {
			check(fmt.Errorf("%s: incident blast-radius exited %d: %s", db.backend, rep.Exit, rep.Stderr))
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		r := result{backend: db.backend, rows: n, load: db.load, wall: wall,
			cpu:   time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
			rssMB: float64(rep.PeakKB) / 1024, child: rep, machineCPU: busy}
		r.csvBytes, r.csvLines = countLines(csvPath)
		check(os.Remove(csvPath))
		if r.child.Rows != int64(n) {
			check(fmt.Errorf("%s: the blast radius read %d ledger rows, want %d", db.backend, r.child.Rows, n))
		}
		if r.csvLines-1 != r.child.Subjects {
			check(fmt.Errorf("%s: the CSV has %d people, the blast radius counted %d", db.backend, r.csvLines-1, r.child.Subjects))
		}
		fmt.Printf("  %s %d rows, run %d: wall %v (command %v), CPU %v (machine %v), peak RSS %.0f MB (anonymous %.0f MB, mapped files %.0f MB), %d people\n",
			db.backend, n, i+1, wall.Round(time.Millisecond), rep.Elapsed.Round(time.Millisecond), r.cpu.Round(time.Millisecond),
			busy.Round(10*time.Millisecond), r.rssMB, float64(rep.AnonKB)/1024, float64(rep.FileKB)/1024, rep.Subjects)
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b result) int { return int(a.wall - b.wall) })
	m := rs[len(rs)/2]
	m.runs = len(rs)
	return m
}

func countLines(path string) (size, lines int64) {
	f, err := os.Open(path)
	check(err)
	defer f.Close()
	buf := make([]byte, 1<<20)
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		k, err := r.Read(buf)
		size += int64(k)
		lines += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return size, lines
		}
		check(err)
	}
}

func report(rs []result) {
	fmt.Println()
	fmt.Println("weaklink incident blast-radius ID --csv FILE --format json: ledger rows of the breached vendor, median of fresh processes")
	fmt.Println()
	fmt.Printf("%-9s %11s %10s %13s %9s %9s %9s %9s %9s %11s %10s %9s\n", "BACKEND", "ROWS", "LOAD", "BLAST+CSV", "CPU", "MACHINE",
		"PEAK RSS", "ANON", "MAPPED", "ROWS/S", "PEOPLE", "CSV")
	for _, r := range rs {
		load := "reused"
		if r.load > 0 {
			load = fmtDur(r.load)
		}
		target := ""
		if r.rows >= 10_000_000 {
			target = " ok"
			if r.wall >= 5*time.Second {
				target = " MISS"
			}
		}
		fmt.Printf("%-9s %11d %10s %9s%-4s %9s %9s %6.0f MB %6.0f MB %6.0f MB %11.0f %10d %6.0f MB\n", r.backend, r.rows, load, fmtDur(r.wall), target,
			fmtDur(r.cpu), fmtDur(r.machineCPU), r.rssMB, float64(r.child.AnonKB)/1024, float64(r.child.FileKB)/1024,
			float64(r.rows)/r.wall.Seconds(), r.child.Subjects, float64(r.csvBytes)/1e6)
	}
	fmt.Println()
	fmt.Println("target: blast radius plus CSV export over 10,000,000 rows in under 5 s, memory flat in the number of rows")
	fmt.Printf("CPU is the command's (user+system), MACHINE every process's during the run (the database server's too) on %d cores\n", runtime.NumCPU())
	fmt.Println("ANON and MAPPED are the peaks of the resident set's two parts: anonymous memory (Go heap, SQLite page cache: cache_size 64 MiB)")
	fmt.Println("and mapped files (the binary; SQLite's database file, mmap_size 256 MiB). SQLite's share is bounded by those two settings,")
	fmt.Println("which a database smaller than them does not fill: compare sizes whose SQLite files both exceed 320 MiB (-small 3000000)")
	for i, r := range rs {
		for _, big := range rs[i+1:] {
			if big.backend == r.backend && big.rows > r.rows {
				fmt.Printf("%s: ×%.0f the rows: peak RSS %.0f → %.0f MB (×%.2f), anonymous %.0f → %.0f MB (×%.2f)\n",
					r.backend, float64(big.rows)/float64(r.rows), r.rssMB, big.rssMB, big.rssMB/r.rssMB,
					float64(r.child.AnonKB)/1024, float64(big.child.AnonKB)/1024, float64(big.child.AnonKB)/float64(r.child.AnonKB))
			}
		}
	}
}

func fmtDur(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

// --- the child ---

// child runs the command as a user would and prints what it reported.
func child(db, id, csvPath, profile string) {
	if profile != "" {
		f, err := os.Create(profile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer func() {
			pprof.StopCPUProfile()
			check(f.Close())
		}()
	}
	var anon, file atomic.Int64
	sample := func() {
		st := procStatus()
		anon.Store(max(anon.Load(), st["RssAnon"]))
		file.Store(max(file.Load(), st["RssFile"]))
	}
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sample()
			case <-stop:
				return
			}
		}
	}()
	var out, errOut bytes.Buffer
	began := time.Now()
	code := cli.Main([]string{"--db", db, "incident", "blast-radius", id, "--csv", csvPath, "--format", "json"}, strings.NewReader(""), &out, &errOut)
	rep := childReport{Exit: code, Stderr: errOut.String(), Elapsed: time.Since(began)}
	close(stop)
	<-sampled
	sample()
	rep.PeakKB, rep.AnonKB, rep.FileKB = procStatus()["VmHWM"], anon.Load(), file.Load()
	if code == 0 {
		check(json.Unmarshal(out.Bytes(), &rep))
	}
	check(json.NewEncoder(os.Stdout).Encode(rep))
}

// procStatus reads the sizes (in KiB) in /proc/self/status.
func procStatus() map[string]int64 {
	b, err := os.ReadFile("/proc/self/status")
	check(err)
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		v, kb := strings.CutSuffix(strings.TrimSpace(v), " kB")
		if !ok || !kb {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		check(err)
		out[name] = n
	}
	return out
}

// busyCPU is the CPU time all processes on the machine have used since
// boot (user, nice, system, irq, softirq, steal), from /proc/stat.
func busyCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	check(err)
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		check(fmt.Errorf("/proc/stat: unexpected first line %q", line))
	}
	var ticks int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		check(err)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/incident:", err)
		cleanup()
		os.Exit(1)
	}
}
