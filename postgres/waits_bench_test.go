package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// seedWaitingSQL writes $1 runs of workflow $3 in status $4: waiting on a
// sleep due from $2 on, one microsecond apart, with their waits, or
// completed.
const seedWaitingSQL = `
WITH seeded AS (
    INSERT INTO runs (id, workflow, workflow_version, status, input, available_at, created_at, updated_at, started_at,
                      finished_at, attempt, epoch)
    SELECT format('01WAIT%s', lpad(i::text, 20, '0')), $3, 1, $4::text, '\x7b7d'::bytea,
           $2::timestamptz + i * interval '1 microsecond', $2::timestamptz - interval '1 second',
           $2::timestamptz - interval '1 second', $2::timestamptz - interval '1 second',
           CASE WHEN $4::text = 'completed' THEN $2::timestamptz - interval '1 second' END, 1, 1
    FROM generate_series(0, $1::int - 1) AS i
    RETURNING id, status, created_at, available_at
)
INSERT INTO waits (run_id, seq, name, step_key, kind, state, started_at, deadline)
SELECT id, 1, 'nap', id || '/1/nap', 'sleep', 'waiting', created_at, available_at FROM seeded WHERE status = 'waiting'`

// BenchmarkClaimsPastWaitingRuns: claiming pending runs beside a million
// runs waiting on timers an hour away, a million completed runs, and none.
func BenchmarkClaimsPastWaitingRuns(b *testing.B) {
	var url string
	open := func(b *testing.B) store.Store {
		url = schemaURL(b)
		st, err := postgres.Open(b.Context(), url, nil)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	seed := func(b *testing.B, _ store.Store, n int, waiting bool, dueAt time.Time) {
		status := "completed"
		if waiting {
			status = "waiting"
		}
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), seedWaitingSQL, n, dueAt, storetest.BenchWaitingWorkflow, status); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(context.Background(), "ANALYZE runs; ANALYZE waits"); err != nil {
			b.Fatal(err)
		}
	}
	storetest.BenchClaimsPastWaitingRuns(b, open, seed, 1_000_000)
}

// BenchmarkClaimsPastPrioritizedRuns: claiming due prioritized runs beside
// 10,000 runs of priority 100 not yet due, and beside none.
func BenchmarkClaimsPastPrioritizedRuns(b *testing.B) {
	open := func(b *testing.B) store.Store {
		st, err := postgres.Open(b.Context(), schemaURL(b), nil)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	storetest.BenchClaimsPastPrioritizedRuns(b, open, 10_000)
}

// BenchmarkClaimsPastWaitingKeyRuns: claiming due runs beside 10,000 runs
// waiting for the one slot of a concurrency key, and beside none.
func BenchmarkClaimsPastWaitingKeyRuns(b *testing.B) {
	open := func(b *testing.B) store.Store {
		st, err := postgres.Open(b.Context(), schemaURL(b), nil)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	storetest.BenchClaimsPastWaitingKeyRuns(b, open, 10_000)
}
