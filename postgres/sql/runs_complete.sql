-- Completions of a batch, in one statement: each held run becomes completed
-- with its output and the attempt's remaining spend, with its run.completed
-- event carrying the run's completion record ($15: JSON text, NULL for none).
-- One row per input says whether the completion was accepted.
WITH input AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], $4::text[], $5::bytea[],
                         $6::bigint[], $7::bigint[], $8::bigint[], $9::float8[], $10::bool[], $11::int[],
                         $15::text[])
        AS i(idx, run_id, epoch, holder, output, input_tokens, output_tokens, cached_tokens,
             cost_usd, cost_unknown, model_calls, record)
),
done AS (
    UPDATE runs r SET
        status = 'completed',
        output = i.output,
        lease_holder = NULL,
        lease_expires_at = NULL,
        finished_at = $12,
        updated_at = $12,
        input_tokens = r.input_tokens + i.input_tokens,
        output_tokens = r.output_tokens + i.output_tokens,
        cached_tokens = r.cached_tokens + i.cached_tokens,
        cost_usd = r.cost_usd + i.cost_usd,
        cost_unknown = r.cost_unknown OR i.cost_unknown,
        model_calls = r.model_calls + i.model_calls
    FROM input i
    WHERE r.id = i.run_id AND r.epoch = i.epoch
      AND r.lease_holder = i.holder AND r.status = 'running'
    RETURNING i.idx
),
events AS (
    INSERT INTO events (run_id, type, actor, at, record)
    SELECT i.run_id, 'run.completed', i.holder, $12, i.record::jsonb
    FROM input i JOIN done d ON d.idx = i.idx
    ORDER BY i.idx
),
outcome AS (
    SELECT i.idx, i.run_id, i.holder, i.epoch,
           d.idx IS NOT NULL AS completed,
           coalesce(a.already, false) AS already
    FROM input i
    LEFT JOIN done d ON d.idx = i.idx
    LEFT JOIN LATERAL (
        SELECT true AS already FROM runs r
        WHERE $13 AND d.idx IS NULL
          AND r.id = i.run_id AND r.epoch = i.epoch AND r.status = 'completed'
        LIMIT 1) a ON true
),
-- A refused completion is recorded as duplicate.suppressed ($14: the lease
-- lost); after a commit in doubt ($13) a run already completed at that epoch
-- is the earlier try's. The run is looked up only then.
suppressed AS (
    INSERT INTO events (run_id, type, actor, at, message)
    SELECT run_id, 'duplicate.suppressed', holder, $12,
           'completion at epoch ' || epoch || ' rejected: ' || $14
    FROM outcome
    WHERE NOT completed AND NOT ($13 AND already)
    ORDER BY idx
)
SELECT idx, completed OR ($13 AND already) AS accepted FROM outcome;
