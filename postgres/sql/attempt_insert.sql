INSERT INTO attempts (run_id, attempt, at, worker, step, step_seq, class, message, classified_by,
                      duration_us, stack, input_tokens, output_tokens, cached_tokens, cost_usd,
                      cost_unknown, model_calls)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17);
