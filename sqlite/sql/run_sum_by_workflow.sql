-- Sums, by workflow, the runs, attempts, retries and spend of every run ever
-- enqueued: the folded sums, deleted runs included, plus the runs not folded
-- yet (those not ended, and those ended since the last fold), found by their
-- partial index rather than by reading every run.
SELECT workflow, sum(runs), sum(attempts), sum(retries), sum(input_tokens), sum(output_tokens),
       sum(cached_tokens), sum(cost_usd), sum(model_calls), sum(runs_unknown_cost)
FROM (
    SELECT workflow, count(*) AS runs, sum(attempt) AS attempts, sum(retries) AS retries,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
           sum(cached_tokens) AS cached_tokens, sum(cost_usd) AS cost_usd,
           sum(model_calls) AS model_calls, sum(cost_unknown) AS runs_unknown_cost
    FROM runs INDEXED BY runs_unfolded WHERE totals_folded = 0 GROUP BY workflow
    UNION ALL
    SELECT workflow, runs, attempts, retries, input_tokens, output_tokens, cached_tokens,
           cost_usd, model_calls, runs_unknown_cost
    FROM run_totals_folded
)
GROUP BY workflow
ORDER BY workflow;
