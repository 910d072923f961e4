-- duplicate.suppressed events of refused writes, in their order.
INSERT INTO events (run_id, type, actor, at, step, step_seq, message)
SELECT run_id, 'duplicate.suppressed', actor, $7, nullif(step, ''), nullif(step_seq, 0), message
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[])
    AS s(idx, run_id, actor, step, step_seq, message)
ORDER BY idx;
