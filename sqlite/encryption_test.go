package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// TestEncryption runs the conformance suite of encryption at rest against
// SQLite, a new database file per subtest, reopened with other keys.
func TestEncryption(t *testing.T) {
	storetest.RunEncryption(t, func(t *testing.T) storetest.OpenWithKeys {
		path := filepath.Join(t.TempDir(), "klaxon.db")
		return func(keys *store.Keyring) (store.Store, error) {
			s, err := sqlite.Open(t.Context(), path, &sqlite.Options{Keys: keys})
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	}, rows)
}
