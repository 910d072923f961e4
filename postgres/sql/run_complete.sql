-- Completes a held run, adds the attempt's remaining spend and records the
-- run.completed event, in one statement; no row when the lease is not held.
WITH done AS (
    UPDATE runs SET
        status = 'completed',
        output = $4,
        lease_holder = NULL,
        lease_expires_at = NULL,
        finished_at = $5,
        updated_at = $5,
        input_tokens = input_tokens + $6,
        output_tokens = output_tokens + $7,
        cached_tokens = cached_tokens + $8,
        cost_usd = cost_usd + $9,
        cost_unknown = cost_unknown OR $10,
        model_calls = model_calls + $11
    WHERE id = $1 AND epoch = $2 AND lease_holder = $3 AND status = 'running'
    RETURNING id
),
event AS (
    INSERT INTO events (run_id, type, actor, at)
    SELECT id, 'run.completed', $3, $5 FROM done
)
SELECT count(*) FROM done;
