-- Takes a folded dead run $1 that run_replay.sql is about to replay out of
-- the folded sums: from now its totals change again, and the sums of the
-- runs not folded count it. The run's row is locked until the replay commits,
-- so a fold cannot take it meanwhile.
UPDATE run_totals_folded SET
    runs = run_totals_folded.runs - 1,
    attempts = run_totals_folded.attempts - r.attempt,
    retries = run_totals_folded.retries - r.retries,
    input_tokens = run_totals_folded.input_tokens - r.input_tokens,
    output_tokens = run_totals_folded.output_tokens - r.output_tokens,
    cached_tokens = run_totals_folded.cached_tokens - r.cached_tokens,
    cost_usd = run_totals_folded.cost_usd - r.cost_usd,
    model_calls = run_totals_folded.model_calls - r.model_calls,
    runs_unknown_cost = run_totals_folded.runs_unknown_cost - (CASE WHEN r.cost_unknown THEN 1 ELSE 0 END)
FROM (SELECT workflow, attempt, retries, input_tokens, output_tokens, cached_tokens, cost_usd, model_calls, cost_unknown
      FROM runs WHERE id = $1 AND status = 'dead' AND totals_folded FOR UPDATE) AS r
WHERE run_totals_folded.workflow = r.workflow;
