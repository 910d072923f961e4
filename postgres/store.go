// Package postgres is the Klaxon store for many workers on many machines: one
// PostgreSQL database (or one schema of it), through pgx's connection pool.
//
// Holder writes (checkpoints, completions, failures, heartbeats) go through
// writers that group-commit the writes of concurrent runs: checkpoints as one
// array statement per batch, the rest as statements in the batch's
// transaction. Two writers run at once, so one batch executes while the other
// waits for its commit to flush. Claims use FOR UPDATE SKIP LOCKED, and idle
// workers wake on LISTEN/NOTIFY. Transient database errors are retried inside
// the store until the context ends.
//
// It may import only the standard library, klaxontype, store, store/txn,
// internal/groupcommit, internal/migrationfile and github.com/jackc/pgx/v5.
package postgres

//go:generate go run ../internal/genqueries postgres "The store's statements, one file each under sql/. pgx prepares and caches each per connection."

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/klaxonhq/klaxon/internal/groupcommit"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/txn"
)

// Options tune a store. The zero value is the safe default.
type Options struct {
	// MaxConns is the size of the connection pool; zero means 16.
	MaxConns int32
	// Writers is how many group-commit writers run at once; zero means 2.
	Writers int
	// NoMigrate refuses a schema older than this binary's (or none) instead
	// of creating or upgrading it, for commands that must not change anything.
	NoMigrate bool
	// RetryFor bounds how long a write waits for an unreachable database
	// before it fails; zero means until the caller's context ends.
	RetryFor time.Duration
	// Keys, when set, encrypt run inputs and outputs, step outputs,
	// dead-letter inputs, signal payloads and schedule inputs at rest. A
	// database written with keys refuses to open without them, and with a
	// key whose secret differs from the one it was written with.
	Keys *store.Keyring
}

// Store is a store.Store on one PostgreSQL schema.
type Store struct {
	// Rules are the methods written once for every store, over tx.
	txn.Rules

	pool     *pgxpool.Pool
	writers  *writers
	notifier *notifier
	schema   string
	version  int
	applied  []int
	retryFor time.Duration
	closed   chan struct{}
	// keys seal the payloads written and open those read; nil for none.
	keys *store.Keyring

	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the database a postgres:// or postgresql:// URL names and
// brings its schema up to date. The URL may choose a schema with the
// search_path parameter (?search_path=tenant_a); Klaxon's tables live in the
// first schema of the path, which Open creates when it is missing. It refuses
// a schema that holds another program's tables, and one written by a newer
// Klaxon.
func Open(ctx context.Context, databaseURL string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	config, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", Redact(databaseURL), err)
	}
	schema := schemaOf(config.ConnConfig.RuntimeParams["search_path"])
	config.MaxConns = opts.MaxConns
	if config.MaxConns <= 0 {
		config.MaxConns = 16
	}
	writerCount := opts.Writers
	if writerCount <= 0 {
		writerCount = 2
	}
	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", Redact(databaseURL), err)
	}
	s := &Store{pool: pool, schema: schema, retryFor: opts.RetryFor, closed: make(chan struct{}), keys: opts.Keys}
	if err := s.prepareSchema(ctx, opts.NoMigrate); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %s: %w", Redact(databaseURL), err)
	}
	if err := s.checkKeys(ctx, !opts.NoMigrate); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %s: %w", Redact(databaseURL), err)
	}
	s.writers = newWriters(s, writerCount)
	s.notifier = newNotifier(pool)
	s.Rules = txn.NewRules(s.transactRule, s.batchRule, s.transactRule, now)
	return s, nil
}

// schemaOf is the first schema of a search_path, public when none is given.
func schemaOf(searchPath string) string {
	first, _, _ := strings.Cut(searchPath, ",")
	first = strings.Trim(strings.TrimSpace(first), `"`)
	if first == "" || first == "$user" {
		return "public"
	}
	return first
}

// Redact hides the password of a database URL before it is printed.
func Redact(databaseURL string) string {
	scheme, rest, ok := strings.Cut(databaseURL, "://")
	if !ok {
		return databaseURL
	}
	credentials, host, ok := strings.Cut(rest, "@")
	if !ok {
		return databaseURL
	}
	user, _, hasPassword := strings.Cut(credentials, ":")
	if !hasPassword {
		return databaseURL
	}
	return scheme + "://" + user + ":***@" + host
}

// Schema is the schema that holds Klaxon's tables.
func (s *Store) Schema() string { return s.schema }

// SchemaVersion is the schema version after Open migrated it.
func (s *Store) SchemaVersion() int { return s.version }

// AppliedMigrations lists the migrations Open applied; empty when the schema
// already was up to date.
func (s *Store) AppliedMigrations() []int { return s.applied }

// Close waits for queued writes to commit, then closes the pool. A second
// Close does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.writers.close()
		close(s.closed)
		s.notifier.close()
		s.pool.Close()
	})
	return nil
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// read runs fn with the pool, retrying transient failures.
func (s *Store) read(ctx context.Context, fn func(ctx context.Context, q querier) error) error {
	if s.isClosed() {
		return klaxontype.ErrClosed
	}
	return s.retry(ctx, func(ctx context.Context) error { return fn(ctx, s.pool) })
}

// transact runs fn in a transaction of its own, retrying it whole when the
// database fails transiently. fn's rejection (see reject) commits what fn
// wrote and is returned as its error.
func (s *Store) transact(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if s.isClosed() {
		return klaxontype.ErrClosed
	}
	var result error
	err := s.retry(ctx, func(ctx context.Context) error {
		result = nil
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		if err := fn(ctx, tx); err != nil {
			reason, refused := groupcommit.Refusal(err)
			if !refused {
				return err
			}
			result = reason
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return err
	}
	return result
}

// querier is what a pool, a connection and a transaction share.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
