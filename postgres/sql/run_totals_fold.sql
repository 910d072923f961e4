-- Folds up to $1 ended runs whose totals are not folded yet: adds their sums
-- to the folded sums and marks them, in one statement, and returns how many
-- it folded. Rows another transaction holds are skipped (a replay, another
-- server's fold), so that two servers folding at once never fold a run twice.
WITH folded AS (
    UPDATE runs SET totals_folded = true
    WHERE id IN (SELECT id FROM runs
                 WHERE NOT totals_folded AND finished_at IS NOT NULL
                   AND status IN ('completed', 'dead', 'cancelled')
                 LIMIT $1 FOR UPDATE SKIP LOCKED)
      AND NOT totals_folded AND finished_at IS NOT NULL AND status IN ('completed', 'dead', 'cancelled')
    RETURNING workflow, attempt, retries, input_tokens, output_tokens, cached_tokens, cost_usd, model_calls, cost_unknown
), added AS (
    INSERT INTO run_totals_folded AS t (workflow, runs, attempts, retries, input_tokens, output_tokens,
                                        cached_tokens, cost_usd, model_calls, runs_unknown_cost)
    SELECT workflow, count(*), sum(attempt), sum(retries), sum(input_tokens), sum(output_tokens),
           sum(cached_tokens), sum(cost_usd), sum(model_calls), count(*) FILTER (WHERE cost_unknown)
    FROM folded GROUP BY workflow
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
SELECT count(*) FROM folded;
