package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// TestStore runs the store conformance suite against SQLite, a new database
// file per subtest.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "klaxon.db"), nil)
		if err != nil {
			t.Fatalf("open SQLite store: %v", err)
		}
		return s
	})
}
