-- Renews the leases the holder still holds. A row locked by a checkpoint or
-- completion in flight is skipped, not waited for: waiting could deadlock
-- with the batch that holds it, and its run is alive; the caller tries the
-- skipped ones again a moment later. One row per lease not renewed: lost
-- (the holder no longer holds the run) or skipped.
WITH leases AS (
    SELECT * FROM unnest($1::text[], $2::bigint[]) AS l(run_id, epoch)
),
renewable AS (
    SELECT r.id FROM runs r JOIN leases l ON r.id = l.run_id
    WHERE r.id = ANY($1::text[]) AND r.epoch = l.epoch AND r.lease_holder = $3
      AND r.status IN ('running', 'compensating')
    ORDER BY r.id
    FOR NO KEY UPDATE OF r SKIP LOCKED
),
renewed AS (
    UPDATE runs r SET lease_expires_at = $4, updated_at = $5
    FROM renewable w
    WHERE r.id = ANY($1::text[]) AND r.id = w.id
    RETURNING r.id
)
SELECT l.run_id, h.held IS NULL AS lost
FROM leases l
LEFT JOIN LATERAL (
    SELECT true AS held FROM runs r
    WHERE r.id = l.run_id AND r.epoch = l.epoch AND r.lease_holder = $3
      AND r.status IN ('running', 'compensating')
    LIMIT 1) h ON true
WHERE NOT EXISTS (SELECT 1 FROM renewed n WHERE n.id = l.run_id);
