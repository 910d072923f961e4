package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
	"zombiezen.com/go/sqlite"
)

// seedWaitingSQL writes ?1 runs of workflow ?3 in status ?4: waiting on a
// sleep due from ?2 on (Unix microseconds), one microsecond apart, or
// completed.
const seedWaitingSQL = `
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?1)
INSERT INTO runs (id, workflow, workflow_version, status, input, available_at, created_at, updated_at, started_at,
                  finished_at, attempt, epoch)
SELECT printf('01WAIT%020d', i), ?3, 1, ?4, X'7B7D', ?2 + i, ?2 - 1000000, ?2 - 1000000, ?2 - 1000000,
       CASE ?4 WHEN 'completed' THEN ?2 - 1000000 END, 1, 1 FROM seq`

const seedWaitsSQL = `
INSERT INTO waits (run_id, seq, name, step_key, kind, state, started_at, deadline)
SELECT id, 1, 'nap', id || '/1/nap', 'sleep', 'waiting', created_at, available_at FROM runs WHERE status = 'waiting'`

func seedWaiting(b *testing.B, st store.Store, n int, waiting bool, dueAt time.Time) {
	b.Helper()
	status := "completed"
	if waiting {
		status = "waiting"
	}
	err := st.(*Store).writer.write(func(conn *sqlite.Conn) error {
		if err := execute(conn, seedWaitingSQL, nil, n, dueAt.UnixMicro(), storetest.BenchWaitingWorkflow, status); err != nil {
			return err
		}
		return execute(conn, seedWaitsSQL, nil)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkClaimsPastWaitingRuns: claiming pending runs beside a million
// runs waiting on timers an hour away, a million completed runs, and none.
func BenchmarkClaimsPastWaitingRuns(b *testing.B) {
	open := func(b *testing.B) store.Store {
		st, err := Open(context.Background(), filepath.Join(b.TempDir(), "waits.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	storetest.BenchClaimsPastWaitingRuns(b, open, seedWaiting, 1_000_000)
}

// BenchmarkClaimsPastPrioritizedRuns: claiming due prioritized runs beside
// 10,000 runs of priority 100 not yet due, and beside none.
func BenchmarkClaimsPastPrioritizedRuns(b *testing.B) {
	open := func(b *testing.B) store.Store {
		st, err := Open(context.Background(), filepath.Join(b.TempDir(), "priorities.db"), nil)
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
		st, err := Open(context.Background(), filepath.Join(b.TempDir(), "keys.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	storetest.BenchClaimsPastWaitingKeyRuns(b, open, 10_000)
}
