-- Adds to the folded sums the runs of ?1 (a JSON array of IDs) that
-- runs_delete_ended.sql is about to delete and that are not folded yet, with
-- the same conditions, in the writer's transaction where nothing changes
-- between the two statements: what a deleted run counted stays counted.
INSERT INTO run_totals_folded (workflow, runs, attempts, retries, input_tokens, output_tokens,
                               cached_tokens, cost_usd, model_calls, runs_unknown_cost)
SELECT workflow, count(*), sum(attempt), sum(retries), sum(input_tokens), sum(output_tokens),
       sum(cached_tokens), sum(cost_usd), sum(model_calls), sum(cost_unknown)
FROM runs
WHERE id IN (SELECT value FROM json_each(?1)) AND totals_folded = 0 AND finished_at IS NOT NULL
  AND +status IN ('completed', 'dead', 'cancelled')
  AND NOT EXISTS (SELECT 1 FROM dlq_entries d WHERE d.run_id = runs.id AND d.state = 'open')
GROUP BY workflow
ON CONFLICT (workflow) DO UPDATE SET
    runs = runs + excluded.runs,
    attempts = attempts + excluded.attempts,
    retries = retries + excluded.retries,
    input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cached_tokens = cached_tokens + excluded.cached_tokens,
    cost_usd = cost_usd + excluded.cost_usd,
    model_calls = model_calls + excluded.model_calls,
    runs_unknown_cost = runs_unknown_cost + excluded.runs_unknown_cost;
