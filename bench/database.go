package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// backend is a database and its durability setting; every engine runs on
// each backend it supports with the same setting.
type backend struct {
	// name is short, for scenario names: "pg", "sqlite-full", "sqlite-normal".
	name string
	// synchronous is SQLite's synchronous pragma; empty for PostgreSQL.
	synchronous string
}

var (
	postgresBackend     = backend{name: "pg"}
	sqliteFullBackend   = backend{name: "sqlite-full", synchronous: "FULL"}
	sqliteNormalBackend = backend{name: "sqlite-normal", synchronous: "NORMAL"}
)

func (b backend) isPostgres() bool { return b.synchronous == "" }

// place is the fresh database one repetition of one scenario runs in: a
// PostgreSQL schema of its own, or an SQLite file in a directory of its own.
type place struct {
	backend backend
	// schema is the PostgreSQL schema, created empty for this repetition.
	schema string
	// postgresURL is the server's URL with search_path set to schema.
	postgresURL string
	// baseURL is the server's URL as given, without the schema.
	baseURL string
	// sqlitePath is the SQLite file, not yet created.
	sqlitePath string
}

// preparePlace creates the empty schema or the temporary directory; cleanup
// drops or removes it.
func preparePlace(ctx context.Context, b backend, postgresURL, scenario string, rep int) (*place, func(), error) {
	name := strings.ReplaceAll(fmt.Sprintf("bench_%s_%d", scenario, rep), "-", "_")
	if !b.isPostgres() {
		dir, err := os.MkdirTemp("", name+"_")
		if err != nil {
			return nil, nil, err
		}
		p := &place{backend: b, sqlitePath: filepath.Join(dir, "bench.db")}
		return p, func() { _ = os.RemoveAll(dir) }, nil
	}
	withSchema, err := withSearchPath(postgresURL, name)
	if err != nil {
		return nil, nil, err
	}
	drop := func() error {
		return execPostgres(context.Background(), postgresURL, "DROP SCHEMA IF EXISTS "+name+" CASCADE")
	}
	if err := drop(); err != nil {
		return nil, nil, err
	}
	if err := execPostgres(ctx, postgresURL, "CREATE SCHEMA "+name); err != nil {
		return nil, nil, err
	}
	p := &place{backend: b, schema: name, postgresURL: withSchema, baseURL: postgresURL}
	return p, func() { _ = drop() }, nil
}

// withSearchPath returns the URL with its search_path parameter set, which
// pgx sends as a run-time parameter of every connection.
func withSearchPath(rawURL, schema string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("postgres URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// withPoolSize returns the URL with pgxpool's pool_max_conns set, unless the
// URL already sets it.
func withPoolSize(rawURL string, size int) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("postgres URL: %w", err)
	}
	q := u.Query()
	if q.Get("pool_max_conns") == "" {
		q.Set("pool_max_conns", fmt.Sprint(size))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func execPostgres(ctx context.Context, postgresURL, statement string) error {
	conn, err := pgx.Connect(ctx, postgresURL)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, statement); err != nil {
		return fmt.Errorf("%s: %w", statement, err)
	}
	return nil
}

// postgresSettings reads the server's version and the settings that decide
// what a commit means, for the report.
func postgresSettings(ctx context.Context, postgresURL string) (string, error) {
	conn, err := pgx.Connect(ctx, postgresURL)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	var version, synchronousCommit, fsync string
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('synchronous_commit'), current_setting('fsync')").
		Scan(&version, &synchronousCommit, &fsync); err != nil {
		return "", err
	}
	return fmt.Sprintf("PostgreSQL %s, synchronous_commit=%s, fsync=%s", version, synchronousCommit, fsync), nil
}

// sqliteDSN is the modernc.org/sqlite data source name the River and DBOS
// engines open through database/sql: WAL, the backend's synchronous setting,
// a busy timeout, and BEGIN IMMEDIATE so that writers queue on the lock
// instead of failing to upgrade a read transaction.
func sqliteDSN(path, synchronous string) string {
	return "file:" + path + "?_txlock=immediate" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(" + synchronous + ")" +
		"&_pragma=busy_timeout(5000)" +
		"&_pragma=foreign_keys(ON)"
}
