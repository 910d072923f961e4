-- Takes over runs whose holder stopped heartbeating: their lease ran out while
-- they were running or compensating. Returns each run as it is now, with the
-- holder and attempt it had.
WITH candidates AS MATERIALIZED (
    SELECT id, lease_holder, lease_expires_at, attempt FROM runs
    WHERE status IN ('running', 'compensating')
      AND lease_expires_at < $3
      AND workflow = ANY($4::text[])
    ORDER BY lease_expires_at
    LIMIT $5
    FOR UPDATE SKIP LOCKED
),
-- A run whose holder is writing a checkpoint right now is left for the next
-- claim (see runs_fence.sql). The lock is tried only on expired runs: the
-- candidates are materialized first.
expired AS (
    SELECT * FROM candidates WHERE pg_try_advisory_xact_lock(1263488, hashtext(id))
)
UPDATE runs r SET
    lease_holder = $1,
    lease_expires_at = $2,
    epoch = r.epoch + 1,
    attempt = r.attempt + 1,
    updated_at = $3
FROM expired e
WHERE r.id = e.id
RETURNING r.*, e.lease_holder AS old_holder, e.lease_expires_at AS old_expires_at, e.attempt AS old_attempt;
