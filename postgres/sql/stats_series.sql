-- The stats series: per bucket of $3 microseconds from $1 until $2, of
-- workflow $4 or of every workflow when it is empty: runs enqueued, runs that
-- ended by terminal status with their spend and retries, and dead-letter
-- entries by class. Each part scans one index over the window (runs_created,
-- runs_ended, dlq_entries_created).
SELECT 'enqueued' AS kind, date_bin($3 * interval '1 microsecond', created_at, $1) AS bucket, '' AS label,
       count(*) AS count, 0::bigint AS retries, 0::bigint AS input_tokens, 0::bigint AS output_tokens,
       0::double precision AS cost_usd, 0::bigint AS unknown_cost
FROM runs
WHERE created_at >= $1 AND created_at < $2 AND ($4 = '' OR workflow = $4)
GROUP BY 2
UNION ALL
SELECT 'ended', date_bin($3 * interval '1 microsecond', finished_at, $1), status, count(*),
       sum(retries)::bigint, sum(input_tokens)::bigint, sum(output_tokens)::bigint,
       coalesce(sum(cost_usd) FILTER (WHERE NOT cost_unknown), 0), count(*) FILTER (WHERE cost_unknown)
FROM runs
WHERE finished_at >= $1 AND finished_at < $2 AND status IN ('completed', 'dead', 'cancelled')
  AND ($4 = '' OR workflow = $4)
GROUP BY 2, 3
UNION ALL
SELECT 'dead_letter', date_bin($3 * interval '1 microsecond', created_at, $1), class, count(*),
       0, 0, 0, 0, 0
FROM dlq_entries
WHERE created_at >= $1 AND created_at < $2 AND ($4 = '' OR workflow = $4)
GROUP BY 2, 3;
