-- Enqueues of a batch without idempotency keys, in one statement: the runs
-- and their run.enqueued events. (An enqueue with a key goes alone, so that a
-- concurrent enqueue of the same key is seen.)
WITH input AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::bytea[], $6::text[],
                         $7::timestamptz[], $8::bigint[], $9::float8[], $10::text[], $12::int[])
        AS i(idx, id, workflow, workflow_version, input, entities, available_at,
             budget_tokens, budget_cost_usd, actor, priority)
),
inserted AS (
    INSERT INTO runs (id, workflow, workflow_version, status, input, entities,
                      available_at, created_at, updated_at, budget_tokens, budget_cost_usd, priority)
    SELECT id, workflow, workflow_version, 'pending', input, entities::jsonb,
           available_at, $11, $11, budget_tokens, budget_cost_usd, priority
    FROM input ORDER BY idx
    -- A run already there is an earlier try's whose commit was in doubt.
    ON CONFLICT (id) DO NOTHING
    RETURNING *
),
events AS (
    INSERT INTO events (run_id, type, actor, at)
    SELECT i.id, 'run.enqueued', i.actor, $11
    FROM input i JOIN inserted r ON r.id = i.id
    ORDER BY i.idx
)
SELECT * FROM inserted;
