package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/internal/migrationfile"
	"github.com/klaxonhq/klaxon/klaxontype"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int { return migrationfile.Newest(migrationFiles, "migrations") }

// prepareSchema checks the schema, then applies the missing migrations under
// an advisory lock, so that workers starting together migrate once.
func (s *Store) prepareSchema(ctx context.Context, noMigrate bool) error {
	return s.retry(ctx, func(ctx context.Context) error {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		recorded, err := inspectSchema(ctx, conn.Conn(), s.schema)
		if err != nil {
			return err
		}
		missing, err := missingMigrations(recorded)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			s.version = SchemaVersion()
			return nil
		}
		if noMigrate {
			if len(recorded) == 0 {
				return fmt.Errorf("schema %q holds no Klaxon tables: run klaxon migrate first", s.schema)
			}
			return fmt.Errorf("the database schema is at version %d and lacks migrations %v of this klaxon's %d: run klaxon migrate first",
				slices.Max(recorded), migrationfile.Versions(missing), SchemaVersion())
		}
		lock := lockKey(s.schema)
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lock); err != nil {
			return err
		}
		defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lock) }()
		// Another process may have migrated while this one waited.
		if recorded, err = inspectSchema(ctx, conn.Conn(), s.schema); err != nil {
			return err
		}
		applied, err := migrate(ctx, conn.Conn(), s.schema, recorded)
		if err != nil {
			return err
		}
		s.applied = applied
		s.version = SchemaVersion()
		return nil
	})
}

// lockKey is the advisory lock that serializes migrations of one schema.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("klaxon-migrate:" + schema))
	return int64(h.Sum64())
}

// inspectSchema reads the migration versions the schema has recorded,
// refusing another program's tables and a schema newer than this binary. It
// writes nothing.
func inspectSchema(ctx context.Context, conn *pgx.Conn, schema string) ([]int, error) {
	var tables, klaxonTables int
	if err := conn.QueryRow(ctx, schemaTablesSQL, schema).Scan(&tables, &klaxonTables); err != nil {
		return nil, err
	}
	if klaxonTables == 0 {
		if tables > 0 {
			return nil, fmt.Errorf("schema %q holds %d tables but no Klaxon schema: it belongs to another program", schema, tables)
		}
		return nil, nil
	}
	rows, err := conn.Query(ctx, migrationsRecordedSQL)
	if err != nil {
		return nil, err
	}
	recorded, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, err
	}
	if len(recorded) > 0 {
		if version, supported := slices.Max(recorded), SchemaVersion(); version > supported {
			return recorded, &klaxontype.SchemaTooNewError{Database: version, Supported: supported}
		}
	}
	return recorded, nil
}

// missingMigrations lists the embedded migrations the schema has not
// recorded, oldest first.
func missingMigrations(recorded []int) ([]migrationfile.Migration, error) {
	list, err := migrationfile.List(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return migrationfile.Missing(list, recorded), nil
}

// migrate creates the schema if needed and applies every migration it has
// not recorded, each in its own transaction.
func migrate(ctx context.Context, conn *pgx.Conn, schema string, recorded []int) (applied []int, err error) {
	list, err := missingMigrations(recorded)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, migrationsTableCreateSQL); err != nil {
		return nil, err
	}
	for _, m := range list {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, migrationRecordSQL, m.Version, m.Name, now())
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}
