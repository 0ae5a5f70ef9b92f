package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/sqlite"
	"github.com/weaklink/weaklink/internal/store/storetest"
)

// TestConformance runs the store contract against a real SQLite file: one
// file per test, shared by every handle that test opens.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	dirs := map[string]string{}
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		d := func() string {
			mu.Lock()
			defer mu.Unlock()
			if d, ok := dirs[t.Name()]; ok {
				return d
			}
			dirs[t.Name()] = t.TempDir()
			return dirs[t.Name()]
		}()
		s, err := sqlite.Open(context.Background(), filepath.Join(d, "weaklink.db"), now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
