-- Adds spend to a failed attempt ?2 of run ?1, reported after the attempt was
-- recorded; an unknown cost makes the attempt's unknown.
UPDATE attempts SET
    input_tokens = input_tokens + ?3,
    output_tokens = output_tokens + ?4,
    cached_tokens = cached_tokens + ?5,
    cost_usd = cost_usd + ?6,
    cost_unknown = max(cost_unknown, ?7),
    model_calls = model_calls + ?8
WHERE rowid = (SELECT max(rowid) FROM attempts WHERE run_id = ?1 AND attempt = ?2);
