INSERT INTO runs (id, workflow, workflow_version, status, input, idempotency_key, entities,
                  available_at, created_at, updated_at, budget_tokens, budget_cost_usd, priority)
VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $8, $9, $10, $11)
ON CONFLICT (workflow, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING *;
