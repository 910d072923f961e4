-- Deletes the runs of $1 that are still ended with no open dead-letter
-- entry, adds what those not folded yet counted to the folded sums, and
-- returns their IDs: what retention deletes. The sums are taken from the rows
-- this statement deleted, so two servers deleting one batch count it once.
WITH deleted AS (
    DELETE FROM runs
    WHERE id = ANY($1::text[]) AND finished_at IS NOT NULL
      AND status IN ('completed', 'dead', 'cancelled')
      AND NOT EXISTS (SELECT 1 FROM dlq_entries d WHERE d.run_id = runs.id AND d.state = 'open')
    RETURNING id, workflow, attempt, retries, input_tokens, output_tokens, cached_tokens,
              cost_usd, model_calls, cost_unknown, totals_folded
), retired AS (
    INSERT INTO run_totals_folded AS t (workflow, runs, attempts, retries, input_tokens, output_tokens,
                                         cached_tokens, cost_usd, model_calls, runs_unknown_cost)
    SELECT workflow, count(*), sum(attempt), sum(retries), sum(input_tokens), sum(output_tokens),
           sum(cached_tokens), sum(cost_usd), sum(model_calls), count(*) FILTER (WHERE cost_unknown)
    FROM deleted WHERE NOT totals_folded GROUP BY workflow
    ON CONFLICT (workflow) DO UPDATE SET
        runs = t.runs + excluded.runs,
        attempts = t.attempts + excluded.attempts,
        retries = t.retries + excluded.retries,
        input_tokens = t.input_tokens + excluded.input_tokens,
        output_tokens = t.output_tokens + excluded.output_tokens,
        cached_tokens = t.cached_tokens + excluded.cached_tokens,
        cost_usd = t.cost_usd + excluded.cost_usd,
        model_calls = t.model_calls + excluded.model_calls,
        runs_unknown_cost = t.runs_unknown_cost + excluded.runs_unknown_cost
)
SELECT id FROM deleted;
