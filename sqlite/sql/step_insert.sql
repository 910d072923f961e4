-- The step is written only while the writer holds the run's current lease, and
-- never over a step already in the log.
INSERT INTO steps (run_id, seq, name, status, attempt, epoch, idempotency_key, output,
                   started_at, finished_at, input_tokens, output_tokens, cached_tokens,
                   cost_usd, cost_unknown, model_calls, rate_limit_wait_ns)
SELECT ?1, ?2, ?3, 'completed', ?4, ?5, ?6, ?7, ?8, ?9, ?11, ?12, ?13, ?14, ?15, ?16, ?17
WHERE EXISTS (
    SELECT 1 FROM runs
    WHERE id = ?1 AND epoch = ?5 AND lease_holder = ?10 AND status IN ('running', 'compensating'))
ON CONFLICT (run_id, seq) DO NOTHING;
