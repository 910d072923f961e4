-- Terminal runs of a workflow, summed per bucket of $4 microseconds counted
-- from the Unix epoch.
SELECT date_bin($4 * interval '1 microsecond', finished_at, timestamptz 'epoch') AS bucket,
       count(*) AS runs,
       sum(retries) AS retries,
       sum(input_tokens)::bigint AS input_tokens,
       sum(output_tokens)::bigint AS output_tokens,
       sum(cached_tokens)::bigint AS cached_tokens,
       sum(cost_usd) AS cost_usd,
       bool_or(cost_unknown) AS cost_unknown,
       sum(model_calls) AS model_calls
FROM runs
WHERE workflow = $1 AND finished_at IS NOT NULL AND finished_at >= $2 AND finished_at < $3
GROUP BY bucket
ORDER BY bucket;
