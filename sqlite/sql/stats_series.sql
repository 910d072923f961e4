-- The stats series: per bucket of ?3 microseconds from ?1 until ?2, of
-- workflow ?4 or of every workflow when it is empty: runs enqueued, runs that
-- ended by terminal status with their spend and retries, and dead-letter
-- entries by class. Each part reads only its covering index (runs_created,
-- runs_ended, dlq_entries_created) over the window.
SELECT 'enqueued' AS kind, (created_at - ?1) / ?3 AS bucket, '' AS label, count(*) AS count,
       0 AS retries, 0 AS input_tokens, 0 AS output_tokens, 0.0 AS cost_usd, 0 AS unknown_cost
FROM runs INDEXED BY runs_created
WHERE created_at >= ?1 AND created_at < ?2 AND (?4 = '' OR workflow = ?4)
GROUP BY bucket
UNION ALL
SELECT 'ended', (finished_at - ?1) / ?3 AS bucket, status, count(*),
       sum(retries), sum(input_tokens), sum(output_tokens),
       sum(CASE WHEN cost_unknown THEN 0.0 ELSE cost_usd END), sum(cost_unknown)
FROM runs INDEXED BY runs_ended
WHERE finished_at >= ?1 AND finished_at < ?2 AND status IN ('completed', 'dead', 'cancelled')
  AND (?4 = '' OR workflow = ?4)
GROUP BY bucket, status
UNION ALL
SELECT 'dead_letter', (created_at - ?1) / ?3 AS bucket, class, count(*), 0, 0, 0, 0.0, 0
FROM dlq_entries INDEXED BY dlq_entries_created
WHERE created_at >= ?1 AND created_at < ?2 AND (?4 = '' OR workflow = ?4)
GROUP BY bucket, class;
