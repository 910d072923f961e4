package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// openMode says whether a command may create or upgrade the database.
type openMode int

const (
	// openToWrite creates the database if needed and upgrades its schema.
	openToWrite openMode = iota
	// openToRead refuses a missing database or an old schema: looking must
	// change nothing.
	openToRead
)

// migratedStore is what both stores offer beyond store.Store.
type migratedStore interface {
	store.Store
	SchemaVersion() int
	AppliedMigrations() []int
}

// database is an open store with the name commands print for it: the SQLite
// file, or the PostgreSQL URL without its password.
type database struct {
	migratedStore
	name string
}

// Name is how messages name the database.
func (d *database) Name() string { return d.name }

// openStore opens the store a --db URL names: postgres:// and postgresql://
// URLs open PostgreSQL, anything else a SQLite file.
func openStore(ctx context.Context, url string, mode openMode) (*database, error) {
	keys, err := keyringOf(ctx)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		// A database that is down is an error at once, not a wait: the
		// command's user is there to see it.
		st, err := postgres.Open(ctx, url, &postgres.Options{NoMigrate: mode == openToRead, RetryFor: 10 * time.Second, Keys: keys})
		if err != nil {
			return nil, err
		}
		return &database{migratedStore: st, name: postgres.Redact(url)}, nil
	}
	path, err := sqlitePath(url)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, path, &sqlite.Options{MustExist: mode == openToRead, NoMigrate: mode == openToRead, Keys: keys})
	if err != nil {
		return nil, err
	}
	return &database{migratedStore: st, name: path}, nil
}

// sqlitePath accepts sqlite:///absolute/path, sqlite://relative/path and a bare
// path.
func sqlitePath(url string) (string, error) {
	switch {
	case url == "":
		return "", &usageError{fmt.Errorf("--db is empty")}
	case strings.HasPrefix(url, "sqlite://"):
		path := strings.TrimPrefix(url, "sqlite://")
		if path == "" {
			return "", &usageError{fmt.Errorf("--db %q names no file", url)}
		}
		return path, nil
	case strings.Contains(url, "://"):
		scheme, _, _ := strings.Cut(url, "://")
		return "", &usageError{fmt.Errorf("--db %q: unknown scheme %q (want postgres://, sqlite:// or a file path)", redact(url), scheme)}
	}
	return url, nil
}

// redact hides a password in a database URL before it is printed.
func redact(url string) string { return postgres.Redact(url) }
