package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
	"github.com/klaxonhq/klaxon/store"
)

// seedRunsPostgresSQL is seedRunsSQL for PostgreSQL: $1 runs over the day
// before now, one in twenty dead with its entry, one in a hundred pending.
const seedRunsPostgresSQL = `
INSERT INTO runs (id, workflow, workflow_version, status, input, available_at, created_at, updated_at,
                  finished_at, attempt, retries, input_tokens, output_tokens, cached_tokens, cost_usd, cost_unknown,
                  model_calls, failure_class, failure_reason)
SELECT '01RUN' || lpad(i::text, 21, '0'), 'workflow-' || (i % 4), 1,
       CASE WHEN i % 20 = 0 THEN 'dead' WHEN i % 100 = 99 THEN 'pending' ELSE 'completed' END,
       '{"document_id": 42}'::bytea, at, at, at,
       CASE WHEN i % 100 = 99 THEN NULL ELSE at + interval '30 seconds' END,
       1 + i % 3, i % 3, 1000 + i % 500, 200 + i % 100, i % 300, 0.0001 * (i % 7), i % 50 = 1, 1 + i % 4,
       CASE WHEN i % 20 = 0 THEN CASE (i / 20) % 3 WHEN 0 THEN 'transient' WHEN 1 THEN 'partial_completion' ELSE 'semantic' END END,
       'seeded'
FROM (SELECT i, now() - interval '1 day' + i * (interval '1 day' / $1) AS at FROM generate_series(0, $1 - 1) AS i) AS s`

const seedEntriesPostgresSQL = `
INSERT INTO dlq_entries (id, run_id, workflow, workflow_version, class, reason, input, channel, state, created_at, updated_at)
SELECT 'E' || substr(id, 2), id, workflow, 1, failure_class, failure_reason, input, 'review',
       CASE WHEN row_number() OVER (ORDER BY id) % 10 = 0 THEN 'open' ELSE 'discarded' END, finished_at, finished_at
FROM runs WHERE status = 'dead'`

// BenchmarkStoreScrapePostgres is BenchmarkStoreScrape on PostgreSQL (the
// schema of KLAXON_TEST_POSTGRES_URL, seeded in SQL with 1,000,000 runs).
func BenchmarkStoreScrapePostgres(b *testing.B) {
	url := pgtest.SchemaURL(b, "metrics_bench_")
	ctx := context.Background()
	st, err := postgres.Open(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	started := time.Now()
	for _, statement := range []string{seedRunsPostgresSQL, seedEntriesPostgresSQL,
		`INSERT INTO workflows (name, version, registered_at, updated_at) SELECT DISTINCT workflow, 1, now(), now() FROM runs`,
		`ANALYZE`} {
		args := []any{}
		if statement == seedRunsPostgresSQL {
			args = append(args, benchRuns)
		}
		if _, err := conn.Exec(ctx, statement, args...); err != nil {
			b.Fatal(err)
		}
	}
	conn.Close(ctx)
	b.Logf("seeding %d runs: %s", benchRuns, time.Since(started))
	started = time.Now()
	for {
		folded, err := st.RunTotalsFold(ctx, store.MaxTotalsFoldBatch)
		if err != nil {
			b.Fatal(err)
		}
		if folded < store.MaxTotalsFoldBatch {
			break
		}
	}
	b.Logf("folding %d runs, once: %s", benchRuns, time.Since(started))
	// The fold rewrote every row; autovacuum would clean up after it in
	// time. Measured after it has, as in the steady state.
	if conn, err = pgx.Connect(ctx, url); err != nil {
		b.Fatal(err)
	}
	started = time.Now()
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE runs"); err != nil {
		b.Fatal(err)
	}
	conn.Close(ctx)
	b.Logf("vacuum after the fold: %s", time.Since(started))
	benchScrapes(b, st)
}
