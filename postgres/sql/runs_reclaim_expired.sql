-- Takes over runs whose holder stopped heartbeating: their lease ran out while
-- they were running or compensating. A run whose holder vanished gets the lost
-- attempt in its history and a lease.reclaimed event; a compensating run
-- released on shutdown (no holder) is simply claimed. Returns each run as it
-- is now.
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
    SELECT *, 'lease of ' || lease_holder || ' expired at '
              || to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
              || ' without a heartbeat; the worker died or hung' AS message
    FROM candidates WHERE pg_try_advisory_xact_lock(1263488, hashtext(id))
),
taken AS (
    UPDATE runs r SET
        lease_holder = $1,
        lease_expires_at = $2,
        epoch = r.epoch + 1,
        attempt = r.attempt + 1,
        updated_at = $3
    FROM expired e
    WHERE r.id = e.id
    RETURNING r.*, e.lease_holder AS old_holder, e.attempt AS old_attempt, e.message AS reclaim_message
),
lost AS (
    INSERT INTO attempts (run_id, attempt, at, worker, class, message, classified_by, duration_us)
    SELECT id, old_attempt, $3, old_holder, 'transient', reclaim_message, 'lease', 0
    FROM taken WHERE old_holder IS NOT NULL
),
reclaimed AS (
    INSERT INTO events (run_id, type, actor, at, message)
    SELECT id, 'lease.reclaimed', $1, $3,
           reclaim_message || '; now attempt ' || attempt || ', epoch ' || epoch
    FROM taken WHERE old_holder IS NOT NULL
)
SELECT * FROM taken;
