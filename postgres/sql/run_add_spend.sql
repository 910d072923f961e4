-- Adds spend to a run's totals; an unknown cost makes the total unknown.
UPDATE runs SET
    input_tokens = input_tokens + $2,
    output_tokens = output_tokens + $3,
    cached_tokens = cached_tokens + $4,
    cost_usd = cost_usd + $5,
    cost_unknown = cost_unknown OR $6,
    model_calls = model_calls + $7
WHERE id = $1;
