package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/postgres"
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
func testDatabaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("KLAXON_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("KLAXON_TEST_POSTGRES_URL is not set: skipping the PostgreSQL tests (.ci/run sets it)")
	}
	return base
}

// schemaURL makes a new schema for one test, dropped when it ends, and returns
// a URL whose search_path selects it.
func schemaURL(t testing.TB) string {
	t.Helper()
	base := testDatabaseURL(t)
	random := make([]byte, 6)
	_, _ = rand.Read(random)
	schema := "klaxon_test_" + hex.EncodeToString(random)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
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

func openTestStore(t testing.TB, opts *postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), schemaURL(t), opts)
	if err != nil {
		t.Fatalf("open PostgreSQL store: %v", err)
	}
	return s
}
