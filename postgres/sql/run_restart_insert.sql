-- A restart is a new run of the dead run's workflow version, entities and
-- budget, from its input or a replacement.
INSERT INTO runs (id, workflow, workflow_version, status, input, entities, available_at,
                  created_at, updated_at, replay_of, budget_tokens, budget_cost_usd, priority)
SELECT $1, workflow, workflow_version, 'pending', coalesce($2, input), entities, $3, $3, $3, id,
       coalesce($5, budget_tokens), coalesce($6, budget_cost_usd), priority
FROM runs WHERE id = $4
RETURNING *;
