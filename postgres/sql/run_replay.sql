-- A replayed run starts a new retry budget and, for from-step, a new
-- generation of step idempotency keys; each field of a new budget ($5, $6)
-- replaces the run's. It gives up its concurrency slot: a worker judges it
-- under its key again when it claims it.
UPDATE runs SET
    status = 'pending',
    available_at = $2,
    attempt_offset = attempt,
    step_generation = step_generation + $4,
    input = coalesce($3, input),
    budget_tokens = coalesce($5, budget_tokens),
    budget_cost_usd = coalesce($6, budget_cost_usd),
    failure_class = NULL,
    failure_reason = NULL,
    failed_step = NULL,
    failed_step_seq = NULL,
    finished_at = NULL,
    concurrency_slot = NULL,
    totals_folded = false,
    updated_at = $2
WHERE id = $1 AND status = 'dead';
