package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/sqlite"
	"github.com/weaklink/weaklink/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		path := filepath.Join(testDir(t), "weaklink.db")
		s, err := sqlite.Open(context.Background(), path, now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// testDir is one temporary directory per (sub)test, shared by every handle the
// test opens, so a second handle is a second process on the same file.
func testDir(t *testing.T) string {
	if d, ok := dirs[t.Name()]; ok {
		return d
	}
	d := t.TempDir()
	dirs[t.Name()] = d
	return d
}

var dirs = map[string]string{}
