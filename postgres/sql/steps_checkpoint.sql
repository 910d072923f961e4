-- Checkpoints of a batch, in one statement: each step is written only while
-- its writer holds the run's current lease, never over a step already in the
-- log; its step.completed event (kept in the step's row, with an ID from the
-- events' sequence: event_list.sql) and its spend go with it. The batch took the
-- runs' fencing locks (runs_fence.sql) before this statement's snapshot, so a
-- reclaim either committed before it (and the epoch check sees it) or waits.
-- One row per input says whether the lease was held and whether the
-- checkpoint was accepted.
WITH input AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::int[], $4::text[], $5::int[], $6::bigint[],
                         $7::text[], $8::bytea[], $9::timestamptz[], $10::timestamptz[], $11::text[],
                         $12::bigint[], $13::bigint[], $14::bigint[], $15::float8[], $16::bool[], $17::int[],
                         $22::bigint[])
        AS i(idx, run_id, seq, name, attempt, epoch, idempotency_key, output, started_at, finished_at,
             holder, input_tokens, output_tokens, cached_tokens, cost_usd, cost_unknown, model_calls,
             rate_limit_wait_ns)
),
-- Each run is looked up on its primary key (LATERAL): a join of the input
-- with the runs leaves the planner free to compare every pair.
held AS (
    SELECT i.idx FROM input i
    CROSS JOIN LATERAL (SELECT epoch, lease_holder, status FROM runs WHERE id = i.run_id) r
    WHERE r.epoch = i.epoch AND r.lease_holder = i.holder AND r.status IN ('running', 'compensating')
),
inserted AS (
    INSERT INTO steps (run_id, seq, name, status, attempt, epoch, idempotency_key, output,
                       started_at, finished_at, input_tokens, output_tokens, cached_tokens,
                       cost_usd, cost_unknown, model_calls, rate_limit_wait_ns,
                       event_id, event_actor, event_at)
    SELECT i.run_id, i.seq, i.name, 'completed', i.attempt, i.epoch, i.idempotency_key, i.output,
           i.started_at, i.finished_at, i.input_tokens, i.output_tokens, i.cached_tokens,
           i.cost_usd, i.cost_unknown, i.model_calls, i.rate_limit_wait_ns,
           nextval('events_id_seq'), i.holder, $18
    FROM input i JOIN held h ON h.idx = i.idx
    ORDER BY i.idx
    ON CONFLICT (run_id, seq) DO NOTHING
    RETURNING run_id, seq
),
spent AS (
    UPDATE runs r SET
        input_tokens = r.input_tokens + t.input_tokens,
        output_tokens = r.output_tokens + t.output_tokens,
        cached_tokens = r.cached_tokens + t.cached_tokens,
        cost_usd = r.cost_usd + t.cost_usd,
        cost_unknown = r.cost_unknown OR t.cost_unknown,
        model_calls = r.model_calls + t.model_calls
    FROM (
        SELECT i.run_id, sum(i.input_tokens) AS input_tokens, sum(i.output_tokens) AS output_tokens,
               sum(i.cached_tokens) AS cached_tokens, sum(i.cost_usd) AS cost_usd,
               bool_or(i.cost_unknown) AS cost_unknown, sum(i.model_calls) AS model_calls
        FROM input i JOIN inserted s ON s.run_id = i.run_id AND s.seq = i.seq
        WHERE i.input_tokens <> 0 OR i.output_tokens <> 0 OR i.cached_tokens <> 0
           OR i.cost_usd <> 0 OR i.cost_unknown OR i.model_calls <> 0
        GROUP BY i.run_id
    ) t
    WHERE r.id = t.run_id
),
-- LATERAL … LIMIT 1 keeps the lookup of an existing step on the primary key;
-- as an EXISTS, the planner hashes the whole step log. After a commit whose
-- outcome was unknown ($19), a step already there at the same epoch and key
-- is the earlier try's, not a duplicate.
outcome AS (
    SELECT i.idx, i.run_id, i.holder, i.name, i.seq, i.epoch,
           h.idx IS NOT NULL AS held,
           s.seq IS NOT NULL AS written,
           coalesce(e.already, false) AS already
    FROM input i
    LEFT JOIN held h ON h.idx = i.idx
    LEFT JOIN inserted s ON s.run_id = i.run_id AND s.seq = i.seq
    LEFT JOIN LATERAL (
        SELECT true AS already FROM steps e
        WHERE $19 AND s.seq IS NULL
          AND e.run_id = i.run_id AND e.seq = i.seq AND e.epoch = i.epoch
          AND e.idempotency_key = i.idempotency_key
        LIMIT 1) e ON true
),
-- A refused checkpoint is recorded as duplicate.suppressed, with the reason:
-- $20 when the lease is lost, $21 when the step is already in the log.
suppressed AS (
    INSERT INTO events (run_id, type, actor, at, step, step_seq, message)
    SELECT run_id, 'duplicate.suppressed', holder, $18, name, seq,
           'checkpoint at epoch ' || epoch || ' rejected: ' || CASE WHEN held THEN $21 ELSE $20 END
    FROM outcome
    WHERE NOT written AND NOT ($19 AND already)
    ORDER BY idx
)
SELECT idx, held, written OR ($19 AND already) AS accepted FROM outcome;
