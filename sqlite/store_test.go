package sqlite_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
	zombie "zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
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
	}, rows)
}

// rows reads every row of every table of the store's file, through a
// connection of its own, as "table: column|column|…", sorted.
func rows(t *testing.T, s store.Store) []string {
	t.Helper()
	conn, err := zombie.OpenConn(s.(*sqlite.Store).Path(), zombie.OpenReadOnly)
	if err != nil {
		t.Fatalf("open the database to read its rows: %v", err)
	}
	defer conn.Close()
	var tables []string
	err = sqlitex.ExecuteTransient(conn, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
		&sqlitex.ExecOptions{ResultFunc: func(stmt *zombie.Stmt) error {
			tables = append(tables, stmt.ColumnText(0))
			return nil
		}})
	if err != nil {
		t.Fatalf("list the tables: %v", err)
	}
	var all []string
	for _, table := range tables {
		err := sqlitex.ExecuteTransient(conn, `SELECT * FROM "`+table+`"`, &sqlitex.ExecOptions{
			ResultFunc: func(stmt *zombie.Stmt) error {
				columns := make([]string, stmt.ColumnCount())
				for i := range columns {
					columns[i] = stmt.ColumnText(i)
				}
				all = append(all, table+": "+strings.Join(columns, "|"))
				return nil
			}})
		if err != nil {
			t.Fatalf("read table %s: %v", table, err)
		}
	}
	slices.Sort(all)
	return all
}
