// Package pgtest gives tests a throwaway schema on the PostgreSQL server
// named by $WEAKLINK_TEST_POSTGRES_URL.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// EnvVar names the server for tests.
const EnvVar = "WEAKLINK_TEST_POSTGRES_URL"

// URL returns a URL for a new, empty schema that is dropped when the test
// ends. Without $WEAKLINK_TEST_POSTGRES_URL the test is skipped, saying so;
// with it set and the server unreachable, the test fails.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip(EnvVar + " is not set; scripts/test sets it")
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		t.Fatalf("%s is set but the server cannot be reached: %v", EnvVar, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "wl_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
