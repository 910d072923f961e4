package postgres_test

import (
	"testing"

	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// TestStore runs the store conformance suite against PostgreSQL, a new schema
// per subtest.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTestStore(t, &postgres.Options{MaxConns: 4})
	})
}

// testDatabaseURL is the server the tests use, or skips the test.
func testDatabaseURL(t testing.TB) string { return pgtest.DatabaseURL(t) }

// schemaURL makes a new schema for one test, dropped when it ends, and returns
// a URL whose search_path selects it.
func schemaURL(t testing.TB) string { return pgtest.SchemaURL(t, "klaxon_test_") }

func openTestStore(t testing.TB, opts *postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), schemaURL(t), opts)
	if err != nil {
		t.Fatalf("open PostgreSQL store: %v", err)
	}
	return s
}
