package sqlite

import (
	"embed"
	"fmt"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/internal/migrationfile"
	"github.com/klaxonhq/klaxon/klaxontype"
	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change, as applyMigration applies it.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations in order.
func migrations() ([]migration, error) {
	files, err := migrationfile.List(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	list := make([]migration, len(files))
	for i, file := range files {
		list[i] = migration{version: file.Version, name: file.Name, sql: file.SQL}
	}
	return list, nil
}

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int { return migrationfile.Newest(migrationFiles, "migrations") }

// inspectSchema reads the migration versions the database has recorded,
// refusing a file that is not a SQLite database, a database of another
// program, and a schema newer than this binary. It writes nothing.
func inspectSchema(conn *sqlite.Conn) (recorded []int, err error) {
	var tables, klaxonTables int
	err = execute(conn, schemaTablesSQL, func(stmt *sqlite.Stmt) error {
		tables, klaxonTables = stmt.ColumnInt(0), stmt.ColumnInt(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if klaxonTables == 0 {
		if tables > 0 {
			return nil, fmt.Errorf("the database holds %d tables but no Klaxon schema: it belongs to another program", tables)
		}
		return nil, nil
	}
	err = execute(conn, migrationsRecordedSQL, func(stmt *sqlite.Stmt) error {
		recorded = append(recorded, stmt.ColumnInt(0))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if version, supported := newestOf(recorded), SchemaVersion(); version > supported {
		return recorded, &klaxontype.SchemaTooNewError{Database: version, Supported: supported}
	}
	return recorded, nil
}

// newestOf is the highest of the recorded versions, 0 when there are none.
func newestOf(recorded []int) int {
	if len(recorded) == 0 {
		return 0
	}
	return slices.Max(recorded)
}

// missingMigrations lists the embedded migrations the database has not
// recorded, oldest first.
func missingMigrations(recorded []int) ([]migrationfile.Migration, error) {
	list, err := migrationfile.List(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return migrationfile.Missing(list, recorded), nil
}

// migrate applies every migration the database has not recorded, each in its
// own transaction, and returns the versions it applied.
func migrate(conn *sqlite.Conn, recorded []int) (applied []int, err error) {
	missing, err := missingMigrations(recorded)
	if err != nil {
		return nil, err
	}
	if err := execute(conn, migrationsTableCreateSQL, nil); err != nil {
		return nil, err
	}
	for _, file := range missing {
		m := migration{version: file.Version, name: file.Name, sql: file.SQL}
		if err := applyMigration(conn, m); err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		applied = append(applied, m.version)
	}
	return applied, nil
}

func applyMigration(conn *sqlite.Conn, m migration) (err error) {
	endFn, err := sqlitex.ImmediateTransaction(conn)
	if err != nil {
		return err
	}
	defer endFn(&err)
	if err := sqlitex.ExecuteScript(conn, m.sql, nil); err != nil {
		return err
	}
	return execute(conn, migrationRecordSQL, nil, m.version, m.name, time.Now())
}
