package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/postgres"
	"github.com/weaklink/weaklink/internal/store/storetest"
)

// TestConformance runs the store contract against a real PostgreSQL server
// named by $WEAKLINK_TEST_POSTGRES_URL. Unset, the test is skipped (and says
// so); set but unreachable, it fails.
func TestConformance(t *testing.T) {
	base := os.Getenv("WEAKLINK_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("WEAKLINK_TEST_POSTGRES_URL is not set; scripts/test sets it")
	}
	var mu sync.Mutex
	schemas := map[string]string{}
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		mu.Lock()
		schema, ok := schemas[t.Name()]
		if !ok {
			schema = NewSchema(t, base)
			schemas[t.Name()] = schema
		}
		mu.Unlock()
		s, err := postgres.Open(context.Background(), WithSchema(t, base, schema), now)
		if err != nil {
			t.Fatalf("open %s: %v", schema, err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// NewSchema creates an empty schema on the server at base and drops it when
// the test ends.
func NewSchema(t *testing.T, base string) string {
	t.Helper()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		t.Fatalf("WEAKLINK_TEST_POSTGRES_URL is set but the server cannot be reached: %v", err)
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
	return schema
}

// WithSchema returns base with its search_path set to schema.
func WithSchema(t *testing.T, base, schema string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestIsURL(t *testing.T) {
	for in, want := range map[string]bool{
		"postgres://u@h/db": true, "postgresql://h/db": true, "./weaklink.db": false, "postgres": false, "": false,
	} {
		if got := postgres.IsURL(in); got != want {
			t.Errorf("IsURL(%q) = %v", in, got)
		}
	}
}
