-- The stats series: per bucket of ?3 microseconds from ?1 until ?2, of
-- workflow ?4 or of every workflow when it is empty: runs enqueued, runs that
-- ended by terminal status with their spend and retries, and dead-letter
-- entries by class. Runs enqueued and dead letters are read from their
-- covering indexes (runs_created, dlq_entries_created) over the window; runs
-- that ended, workflow by workflow, from runs_finished (workflow,
-- finished_at) and their rows.
SELECT 'enqueued' AS kind, (created_at - ?1) / ?3 AS bucket, '' AS label, count(*) AS count,
       0 AS retries, 0 AS input_tokens, 0 AS output_tokens, 0.0 AS cost_usd, 0 AS unknown_cost
FROM runs INDEXED BY runs_created
WHERE created_at >= ?1 AND created_at < ?2 AND (?4 = '' OR workflow = ?4)
GROUP BY bucket
UNION ALL
SELECT 'ended', (r.finished_at - ?1) / ?3 AS bucket, r.status, count(*),
       sum(r.retries), sum(r.input_tokens), sum(r.output_tokens),
       sum(CASE WHEN r.cost_unknown THEN 0.0 ELSE r.cost_usd END), sum(r.cost_unknown)
FROM (SELECT DISTINCT workflow FROM runs INDEXED BY runs_workflow WHERE ?4 = '' OR workflow = ?4) AS w
JOIN runs AS r INDEXED BY runs_finished
  ON r.workflow = w.workflow AND r.finished_at >= ?1 AND r.finished_at < ?2
WHERE r.status IN ('completed', 'dead', 'cancelled')
GROUP BY bucket, r.status
UNION ALL
SELECT 'dead_letter', (created_at - ?1) / ?3 AS bucket, class, count(*), 0, 0, 0, 0.0, 0
FROM dlq_entries INDEXED BY dlq_entries_created
WHERE created_at >= ?1 AND created_at < ?2 AND (?4 = '' OR workflow = ?4)
GROUP BY bucket, class;
