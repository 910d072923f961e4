package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
)

// Open creates the schema and its tables, and a second Open finds them current.
func TestOpenMigratesOnce(t *testing.T) {
	url := schemaURL(t)
	first, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.AppliedMigrations()) == 0 || first.SchemaVersion() != postgres.SchemaVersion() {
		t.Fatalf("first open applied %v, version %d", first.AppliedMigrations(), first.SchemaVersion())
	}
	first.Close()
	second, err := postgres.Open(t.Context(), url, &postgres.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if len(second.AppliedMigrations()) != 0 {
		t.Fatalf("second open applied %v", second.AppliedMigrations())
	}
}

// A schema written by a newer Klaxon, one that belongs to another program,
// and a missing schema opened only to read are refused, and left unchanged.
func TestOpenRefusesWhatItCannotUse(t *testing.T) {
	ctx := context.Background()
	exec := func(url, sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}

	newer := schemaURL(t)
	st, err := postgres.Open(ctx, newer, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	exec(newer, "INSERT INTO klaxon_migrations (version, name, applied_at) VALUES (999, 'future', now())")
	var tooNew *klaxontype.SchemaTooNewError
	if _, err := postgres.Open(ctx, newer, nil); !errors.As(err, &tooNew) || tooNew.Database != 999 {
		t.Errorf("opening a newer schema: %v; want a SchemaTooNewError for version 999", err)
	}

	foreign := schemaURL(t)
	schema := foreign[strings.Index(foreign, "search_path=")+len("search_path="):]
	schema, _, _ = strings.Cut(schema, "&")
	exec(testDatabaseURL(t), "CREATE SCHEMA "+schema+"; CREATE TABLE "+schema+".invoices (id int)")
	if _, err := postgres.Open(ctx, foreign, nil); err == nil || !strings.Contains(err.Error(), "another program") {
		t.Errorf("opening another program's schema: %v", err)
	}

	missing := schemaURL(t)
	if _, err := postgres.Open(ctx, missing, &postgres.Options{NoMigrate: true}); err == nil || !strings.Contains(err.Error(), "klaxon migrate") {
		t.Errorf("opening a missing schema to read: %v; want a hint to run klaxon migrate", err)
	}
}

// A schema that has a newer migration but never got an older one (a
// migration merged after its successor was deployed) gets the older one at
// the next Open, and a read-only Open names what is missing.
func TestOpenAppliesAMigrationBelowTheNewestRecorded(t *testing.T) {
	ctx := context.Background()
	url := schemaURL(t)
	st, err := postgres.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP TABLE encryption_keys; DELETE FROM klaxon_migrations WHERE version = 12"); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, url, &postgres.Options{NoMigrate: true}); err == nil || !strings.Contains(err.Error(), "lacks migrations [12]") {
		t.Errorf("a read-only open of a schema without migration 12: %v", err)
	}
	st, err = postgres.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if applied := st.AppliedMigrations(); len(applied) != 1 || applied[0] != 12 {
		t.Errorf("applied %v, want [12]", applied)
	}
	var tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'encryption_keys' AND table_schema = current_schema()").Scan(&tables); err != nil || tables != 1 {
		t.Errorf("encryption_keys tables after the open: %d, %v", tables, err)
	}
}
