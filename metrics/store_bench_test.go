package metrics_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"github.com/klaxonhq/klaxon/metrics"
	sqlitestore "github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// seedRunsSQL writes ?1 runs of four workflows created over the day before
// ?2 (Unix microseconds): one in twenty dead (with its entry), most others
// completed with spend, retries and attempts, one in a hundred pending.
const seedRunsSQL = `
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?1)
INSERT INTO runs (id, workflow, workflow_version, status, input, available_at, created_at, updated_at,
                  finished_at, attempt, retries, input_tokens, output_tokens, cached_tokens, cost_usd, cost_unknown,
                  model_calls, failure_class, failure_reason)
SELECT printf('01RUN%021d', i), 'workflow-' || (i % 4), 1,
       CASE WHEN i % 20 = 0 THEN 'dead' WHEN i % 100 = 99 THEN 'pending' ELSE 'completed' END,
       X'7B22646F63756D656E745F6964223A2034327D', at, at, at,
       CASE WHEN i % 100 = 99 THEN NULL ELSE at + 30000000 END,
       1 + i % 3, i % 3, 1000 + i % 500, 200 + i % 100, i % 300, 0.0001 * (i % 7), i % 50 = 1, 1 + i % 4,
       CASE WHEN i % 20 = 0 THEN CASE (i / 20) % 3 WHEN 0 THEN 'transient' WHEN 1 THEN 'partial_completion' ELSE 'semantic' END END,
       'seeded'
FROM (SELECT i, ?2 - 86400000000 + i * (86400000000 / ?1) AS at FROM seq)`

// seedEntriesSQL gives every dead run its dead-letter entry, one in ten
// still open.
const seedEntriesSQL = `
INSERT INTO dlq_entries (id, run_id, workflow, workflow_version, class, reason, input, channel, state, created_at, updated_at)
SELECT 'E' || substr(id, 2), id, workflow, 1, failure_class, failure_reason, input, 'review',
       CASE WHEN rowid % 10 = 0 THEN 'open' ELSE 'discarded' END, finished_at, finished_at
FROM runs WHERE status = 'dead'`

// benchRuns is the store size of the target: a scrape under 100 ms
// over 1,000,000 runs.
const benchRuns = 1_000_000

var (
	seedOnce sync.Once
	seedPath string
	seedErr  error
)

// seededStore returns a SQLite store of benchRuns runs, seeded once per test
// binary straight in SQL (the engine would take minutes).
func seededStore(b *testing.B) *sqlitestore.Store {
	b.Helper()
	seedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "klaxon-metrics-bench")
		if err != nil {
			seedErr = err
			return
		}
		seedPath = filepath.Join(dir, "klaxon.db")
		st, err := sqlitestore.Open(context.Background(), seedPath, nil)
		if err != nil {
			seedErr = err
			return
		}
		_ = st.Close()
		conn, err := sqlite.OpenConn(seedPath)
		if err != nil {
			seedErr = err
			return
		}
		defer conn.Close()
		seedErr = sqlitex.Execute(conn, "BEGIN IMMEDIATE", nil)
		for _, step := range []func() error{
			func() error {
				return sqlitex.Execute(conn, seedRunsSQL, &sqlitex.ExecOptions{Args: []any{benchRuns, time.Now().UnixMicro()}})
			},
			func() error { return sqlitex.Execute(conn, seedEntriesSQL, nil) },
			func() error {
				return sqlitex.Execute(conn, `INSERT INTO workflows (name, version, registered_at, updated_at)
					SELECT DISTINCT workflow, 1, 0, 0 FROM runs`, nil)
			},
			func() error { return sqlitex.Execute(conn, "COMMIT", nil) },
			func() error { return sqlitex.Execute(conn, "ANALYZE", nil) },
		} {
			if seedErr == nil {
				seedErr = step()
			}
		}
	})
	if seedErr != nil {
		b.Fatal(seedErr)
	}
	st, err := sqlitestore.Open(context.Background(), seedPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	foldOnce.Do(func() {
		// A store upgraded with a million runs folds them once, over the
		// first reads; measured here apart from the steady state.
		started := time.Now()
		for {
			folded, err := st.RunTotalsFold(context.Background(), store.MaxTotalsFoldBatch)
			if err != nil {
				b.Fatal(err)
			}
			if folded < store.MaxTotalsFoldBatch {
				break
			}
		}
		b.Logf("folding %d runs, once: %s", benchRuns, time.Since(started))
	})
	return st
}

var foldOnce sync.Once

// BenchmarkStoreScrape measures /metrics' store collector over 1,000,000
// runs on SQLite:
//   - read: a scrape that waits for a read of the store every time (the
//     background read's cost; the run totals folded, as they are once the
//     collector has run);
//   - scrape: scrapes as Prometheus makes them, every op after the TTL, each
//     waiting at most DefaultStoreScrapeWait for the read it starts.
func BenchmarkStoreScrape(b *testing.B) {
	benchScrapes(b, seededStore(b))
}

// benchScrapes measures a seeded store's reads and scrapes.
func benchScrapes(b *testing.B, st metrics.Storage) {
	b.Run("read", func(b *testing.B) {
		registry := prometheus.NewRegistry()
		registry.MustRegister(metrics.NewStoreCollector(st, time.Nanosecond, metrics.StoreScrapeWait(time.Hour)))
		for b.Loop() {
			if _, err := registry.Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scrape", func(b *testing.B) {
		registry := prometheus.NewRegistry()
		registry.MustRegister(metrics.NewStoreCollector(st, time.Nanosecond))
		if _, err := registry.Gather(); err != nil { // the first read, waited for
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := registry.Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
