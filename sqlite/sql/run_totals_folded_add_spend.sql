-- Adds spend reported late for a run ?1 already folded to the folded sums,
-- which no longer read the run; an unknown cost counts the run once. Run
-- before run_add_spend.sql, which sets the run's own flag.
UPDATE run_totals_folded SET
    input_tokens = run_totals_folded.input_tokens + ?2,
    output_tokens = run_totals_folded.output_tokens + ?3,
    cached_tokens = run_totals_folded.cached_tokens + ?4,
    cost_usd = run_totals_folded.cost_usd + ?5,
    runs_unknown_cost = run_totals_folded.runs_unknown_cost + (?6 AND NOT r.cost_unknown),
    model_calls = run_totals_folded.model_calls + ?7
FROM (SELECT workflow, cost_unknown FROM runs WHERE id = ?1 AND totals_folded = 1) AS r
WHERE run_totals_folded.workflow = r.workflow;
