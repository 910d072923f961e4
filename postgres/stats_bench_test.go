package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// seedStatsSQL writes $1 runs created evenly over the 24 hours before $2, of
// four workflows, each ending 30s after it began: every other one dead (over
// six classes) with its open dead-letter entry, most others completed with
// spend and retries, one in ten cancelled, one in twenty still pending.
const seedStatsSQL = `
WITH seeded AS (
    INSERT INTO runs (id, workflow, workflow_version, status, input, available_at, created_at, updated_at,
                      finished_at, retries, input_tokens, output_tokens, cost_usd, cost_unknown, failure_class, failure_reason)
    SELECT format('01RUN%s', lpad(i::text, 21, '0')), 'workflow-' || (i % 4), 1,
           CASE WHEN i % 2 = 0 THEN 'dead' WHEN i % 20 = 19 THEN 'pending' WHEN i % 10 = 9 THEN 'cancelled' ELSE 'completed' END,
           '\x7b7d'::bytea, at, at, at,
           CASE WHEN i % 20 = 19 THEN NULL ELSE at + interval '30 seconds' END,
           i % 3, 1000 + i % 500, 200 + i % 100, 0.0001 * (i % 7), i % 50 = 1,
           CASE WHEN i % 2 = 0 THEN (ARRAY['transient', 'timeout', 'semantic', 'permanent', 'context_overflow', 'budget_exceeded'])[(i / 2) % 6 + 1] END,
           'seeded'
    FROM (SELECT i, $2::timestamptz - interval '24 hours' + i * (interval '24 hours' / $1::int) AS at
          FROM generate_series(0, $1::int - 1) AS i) AS s
    RETURNING id, workflow, status, failure_class, failure_reason, input, finished_at
)
INSERT INTO dlq_entries (id, run_id, workflow, workflow_version, class, reason, input, channel, state, created_at, updated_at)
SELECT 'E' || substr(id, 2), id, workflow, 1, failure_class, failure_reason, input, 'review', 'open', finished_at, finished_at
FROM seeded WHERE status = 'dead'`

// BenchmarkStatsSeries measures the dashboard's overview on PostgreSQL: one
// 24h series of 1h buckets over 100,000 runs and 50,000 dead-letter entries,
// all of them in the window (the worst case), for every workflow and for one.
func BenchmarkStatsSeries(b *testing.B) {
	url := schemaURL(b)
	st, err := postgres.Open(b.Context(), url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), seedStatsSQL, 100_000, now); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "ANALYZE runs; ANALYZE dlq_entries"); err != nil {
		b.Fatal(err)
	}
	conn.Close(context.Background())
	storetest.BenchStatsSeries(b, st, now)
}
