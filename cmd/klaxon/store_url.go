package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/klaxonhq/klaxon/sqlite"
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

// openStore opens the store a --db URL names.
func openStore(ctx context.Context, url string, mode openMode) (*sqlite.Store, error) {
	path, err := sqlitePath(url)
	if err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, path, &sqlite.Options{MustExist: mode == openToRead, NoMigrate: mode == openToRead})
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
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return "", &usageError{fmt.Errorf("--db %q: the PostgreSQL store is not available in this build yet; use a SQLite file", redact(url))}
	case strings.Contains(url, "://"):
		scheme, _, _ := strings.Cut(url, "://")
		return "", &usageError{fmt.Errorf("--db %q: unknown scheme %q (want sqlite:// or a file path)", redact(url), scheme)}
	}
	return url, nil
}

// redact hides a password in a database URL before it is printed.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	credentials, host, ok := strings.Cut(rest, "@")
	if !ok {
		return url
	}
	user, _, hasPassword := strings.Cut(credentials, ":")
	if !hasPassword {
		return url
	}
	return scheme + "://" + user + ":***@" + host
}
