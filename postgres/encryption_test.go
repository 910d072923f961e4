package postgres_test

import (
	"testing"

	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// TestEncryption runs the conformance suite of encryption at rest against
// PostgreSQL, a new schema per subtest, reopened with other keys.
func TestEncryption(t *testing.T) {
	storetest.RunEncryption(t, func(t *testing.T) storetest.OpenWithKeys {
		url := schemaURL(t)
		return func(keys *store.Keyring) (store.Store, error) {
			s, err := postgres.Open(t.Context(), url, &postgres.Options{MaxConns: 4, Keys: keys})
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	}, rows)
}
