-- Terminal runs of a workflow, summed per bucket of ?4 microseconds.
SELECT (finished_at / ?4) * ?4 AS bucket,
       count(*) AS runs,
       sum(retries) AS retries,
       sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens,
       sum(cached_tokens) AS cached_tokens,
       sum(cost_usd) AS cost_usd,
       max(cost_unknown) AS cost_unknown,
       sum(model_calls) AS model_calls
FROM runs INDEXED BY runs_finished
WHERE workflow = ?1 AND finished_at IS NOT NULL AND finished_at >= ?2 AND finished_at < ?3
GROUP BY bucket
ORDER BY bucket;
