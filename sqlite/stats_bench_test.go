package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/store/storetest"
	"zombiezen.com/go/sqlite"
)

// seedRunsSQL writes ?1 runs created evenly over the 24 hours before ?2
// (Unix microseconds), of four workflows, each ending 30s after it began:
// every other one dead (over six classes), most others completed with spend
// and retries, one in ten cancelled, one in twenty still pending.
const seedRunsSQL = `
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?1)
INSERT INTO runs (id, workflow, workflow_version, status, input, available_at, created_at, updated_at,
                  finished_at, retries, input_tokens, output_tokens, cost_usd, cost_unknown, failure_class, failure_reason)
SELECT printf('01RUN%021d', i), 'workflow-' || (i % 4), 1,
       CASE WHEN i % 2 = 0 THEN 'dead' WHEN i % 20 = 19 THEN 'pending' WHEN i % 10 = 9 THEN 'cancelled' ELSE 'completed' END,
       X'7B7D', at, at, at,
       CASE WHEN i % 20 = 19 THEN NULL ELSE at + 30000000 END,
       i % 3, 1000 + i % 500, 200 + i % 100, 0.0001 * (i % 7), i % 50 = 1,
       CASE WHEN i % 2 = 0 THEN
           CASE (i / 2) % 6 WHEN 0 THEN 'transient' WHEN 1 THEN 'timeout' WHEN 2 THEN 'semantic'
                WHEN 3 THEN 'permanent' WHEN 4 THEN 'context_overflow' ELSE 'budget_exceeded' END
       END,
       'seeded'
FROM (SELECT i, ?2 - 86400000000 + i * (86400000000 / ?1) AS at FROM seq)`

// seedEntriesSQL gives every dead run its open dead-letter entry.
const seedEntriesSQL = `
INSERT INTO dlq_entries (id, run_id, workflow, workflow_version, class, reason, input, channel, state, created_at, updated_at)
SELECT 'E' || substr(id, 2), id, workflow, 1, failure_class, failure_reason, input, 'review', 'open', finished_at, finished_at
FROM runs WHERE status = 'dead'`

// seedStats fills a store with runs and their dead-letter entries in one
// transaction, straight in SQL.
func seedStats(b *testing.B, s *Store, runs int, now time.Time) {
	b.Helper()
	err := s.writer.write(func(conn *sqlite.Conn) error {
		if err := execute(conn, seedRunsSQL, nil, runs, now.UnixMicro()); err != nil {
			return err
		}
		return execute(conn, seedEntriesSQL, nil)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStatsSeries measures the dashboard's overview: one 24h series of
// 1h buckets over 100,000 runs and 50,000 dead-letter entries, all of them in
// the window (the worst case), for every workflow and for one.
func BenchmarkStatsSeries(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "stats.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	seedStats(b, s, 100_000, now)
	storetest.BenchStatsSeries(b, s, now)
}
