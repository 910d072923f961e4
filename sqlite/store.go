// Package sqlite is the embedded Klaxon store: one SQLite file in WAL mode with
// synchronous=FULL, through the pure-Go zombiezen.com/go/sqlite (no cgo).
//
// All writes go through one connection owned by a writer goroutine that
// group-commits the writes of concurrent runs; reads use a small pool of their
// own connections, which WAL lets run beside the writer.
//
// It may import only the standard library, klaxontype, store, store/txn,
// internal/groupcommit, internal/migrationfile and zombiezen.com/go/sqlite.
package sqlite

//go:generate go run ../internal/genqueries sqlite "The store's statements, one file each under sql/. zombiezen caches a prepared statement per query text, so each is compiled once per connection."

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/internal/migrationfile"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/txn"
	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// Options tune a store. The zero value is the safe default.
type Options struct {
	// Synchronous is SQLite's synchronous setting: "FULL" (the default: a
	// committed write survives a power cut) or "NORMAL" (it survives a crash of
	// the process but maybe not of the machine).
	Synchronous string
	// ReadConnections is the size of the read pool; zero means 4.
	ReadConnections int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process; zero means 5 seconds.
	BusyTimeout time.Duration
	// MustExist refuses to create a database that does not exist yet, for
	// commands that only look (a typo must not leave an empty database behind).
	MustExist bool
	// NoMigrate refuses a database whose schema is older than this binary's
	// instead of upgrading it, for commands that must not change anything.
	NoMigrate bool
	// Keys, when set, encrypt run inputs and outputs, step outputs,
	// dead-letter inputs, signal payloads and schedule inputs at rest. A
	// database written with keys refuses to open without them, and with a
	// key whose secret differs from the one it was written with.
	Keys *store.Keyring
}

// Store is a store.Store on one SQLite file.
type Store struct {
	// Rules are the methods written once for every store, over tx.
	txn.Rules

	path    string
	writer  *writer
	readers *sqlitex.Pool
	version int
	applied []int
	// keys seal the payloads written and open those read; nil for none.
	keys *store.Keyring

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens, or creates, the SQLite database at path and brings its schema up
// to date. It refuses, without changing the file, a path that cannot be opened,
// a file that is not a SQLite database or holds another program's tables, and a
// schema written by a newer Klaxon.
func Open(ctx context.Context, path string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	synchronous := strings.ToUpper(opts.Synchronous)
	if synchronous == "" {
		synchronous = "FULL"
	}
	if synchronous != "FULL" && synchronous != "NORMAL" {
		return nil, fmt.Errorf("sqlite: synchronous must be FULL or NORMAL, not %q", opts.Synchronous)
	}
	busyTimeout := opts.BusyTimeout
	if busyTimeout == 0 {
		busyTimeout = 5 * time.Second
	}
	readConnections := opts.ReadConnections
	if readConnections == 0 {
		readConnections = 4
	}
	// A command that only looks says the database is missing, not that it
	// cannot create one, whichever part of the path is missing.
	if opts.MustExist {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("sqlite: database %s does not exist", path)
		}
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	fromFreshSchema := false
	if !opts.MustExist && !opts.NoMigrate {
		created, err := createFromFreshSchema(path)
		if err != nil {
			return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
		}
		fromFreshSchema = created
	}

	conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite|sqlite.OpenCreate)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	conn.SetBusyTimeout(busyTimeout)
	s := &Store{path: path, keys: opts.Keys}
	if err := s.prepareSchema(conn, synchronous, opts.NoMigrate); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	if fromFreshSchema {
		s.applied = allMigrations()
	}
	if err := checkKeys(conn, opts.Keys, !opts.NoMigrate); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	readers, err := sqlitex.NewPool(path, sqlitex.PoolOptions{
		Flags:    sqlite.OpenReadWrite,
		PoolSize: readConnections,
		PrepareConn: func(conn *sqlite.Conn) error {
			conn.SetBusyTimeout(busyTimeout)
			return sqlitex.ExecuteTransient(conn, "PRAGMA query_only = ON", nil)
		},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sqlite: open read pool on %s: %w", path, err)
	}
	s.readers = readers
	s.writer = newWriter(conn)
	s.Rules = txn.NewRules(s.transact, s.transact, s.transactBackground, now)
	return s, nil
}

// checkPath gives a clear error for a path that cannot hold a database before
// SQLite answers with "unable to open database file".
func checkPath(path string) error {
	if path == "" {
		return errors.New("sqlite: no database path given")
	}
	info, err := os.Stat(path)
	if err == nil && info.IsDir() {
		return fmt.Errorf("sqlite: %s is a directory, not a database file", path)
	}
	dir := filepath.Dir(path)
	if info, err := os.Stat(dir); err != nil {
		return fmt.Errorf("sqlite: cannot create database %s: directory %s does not exist", path, dir)
	} else if !info.IsDir() {
		return fmt.Errorf("sqlite: cannot create database %s: %s is not a directory", path, dir)
	}
	return nil
}

// prepareSchema checks the file before it writes anything, then switches to
// WAL and applies missing migrations.
func (s *Store) prepareSchema(conn *sqlite.Conn, synchronous string, noMigrate bool) error {
	recorded, err := inspectSchema(conn)
	if err != nil {
		if sqlite.ErrCode(err) == sqlite.ResultNotADB {
			return errors.New("the file is not a SQLite database")
		}
		if sqlite.ErrCode(err).ToPrimary() == sqlite.ResultReadOnly {
			// The driver's error would print the statement's SQL text.
			return errors.New("the database is read-only for this user: Klaxon needs to write to the file and to its directory " +
				"(the write-ahead log sits beside it), even to read; run as the database's owner or give this user write access")
		}
		return err
	}
	if noMigrate {
		if missing, err := missingMigrations(recorded); err != nil {
			return err
		} else if len(missing) > 0 {
			return fmt.Errorf("the database schema is at version %d and lacks migrations %v of this klaxon's %d: run klaxon migrate first",
				newestOf(recorded), migrationfile.Versions(missing), SchemaVersion())
		}
	}
	for _, pragma := range []string{
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = " + synchronous,
		"PRAGMA foreign_keys = OFF",
	} {
		if err := sqlitex.ExecuteTransient(conn, pragma, nil); err != nil {
			return fmt.Errorf("%s: %w", pragma, err)
		}
	}
	applied, err := migrate(conn, recorded)
	if err != nil {
		return err
	}
	if len(recorded) == 0 {
		if err := keepFreshSchema(conn); err != nil {
			return err
		}
	}
	s.applied = applied
	s.version = SchemaVersion()
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// SchemaVersion is the database's schema version after Open migrated it.
func (s *Store) SchemaVersion() int { return s.version }

// AppliedMigrations lists the migration versions Open applied to bring an
// older database up to date; empty when it already was.
func (s *Store) AppliedMigrations() []int { return s.applied }

// Close waits for queued writes to commit, then closes every connection. A
// second Close does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.writer.close()
		errWriter := s.writer.conn.Close()
		errReaders := s.readers.Close()
		s.closeErr = errors.Join(errWriter, errReaders)
	})
	return s.closeErr
}

// read runs fn on a connection of the read pool.
func (s *Store) read(ctx context.Context, fn func(conn *sqlite.Conn) error) error {
	conn, err := s.readers.Take(ctx)
	if err != nil {
		if s.writer.isClosed() {
			return klaxontype.ErrClosed
		}
		return err
	}
	defer s.readers.Put(conn)
	return fn(conn)
}

func now() time.Time { return time.Now().UTC() }
