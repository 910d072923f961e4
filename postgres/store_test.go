package postgres_test

import (
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
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
	}, rows)
}

// rows reads every row of every table of the store's schema, through a
// connection of its own, as "table: (row as text)", sorted. Sequences are
// left out: PostgreSQL never rolls them back, and no reader sees them.
func rows(t *testing.T, s store.Store) []string {
	t.Helper()
	schema := s.(*postgres.Store).Schema()
	conn, err := pgx.Connect(t.Context(), testDatabaseURL(t))
	if err != nil {
		t.Fatalf("connect to read the rows: %v", err)
	}
	defer conn.Close(t.Context())
	tableRows, err := conn.Query(t.Context(),
		"SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1", schema)
	if err != nil {
		t.Fatalf("list the tables: %v", err)
	}
	tables, err := pgx.CollectRows(tableRows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list the tables: %v", err)
	}
	var all []string
	for _, table := range tables {
		name := pgx.Identifier{schema, table}.Sanitize()
		result, err := conn.Query(t.Context(), "SELECT t::text FROM "+name+" t")
		if err != nil {
			t.Fatalf("read table %s: %v", table, err)
		}
		texts, err := pgx.CollectRows(result, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("read table %s: %v", table, err)
		}
		for _, text := range texts {
			all = append(all, table+": "+text)
		}
	}
	slices.Sort(all)
	return all
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
