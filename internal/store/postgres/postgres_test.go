package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/postgres"
	"github.com/weaklink/weaklink/internal/store/postgres/pgtest"
	"github.com/weaklink/weaklink/internal/store/storetest"
)

// TestConformance runs the store contract against a real PostgreSQL server:
// one schema per test, shared by every handle that test opens.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	urls := map[string]string{}
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		// One schema per test; the lock is released even when URL fails the test.
		u := func() string {
			mu.Lock()
			defer mu.Unlock()
			if u, ok := urls[t.Name()]; ok {
				return u
			}
			urls[t.Name()] = pgtest.URL(t)
			return urls[t.Name()]
		}()
		s, err := postgres.Open(context.Background(), u, now)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
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
