-- Due notifications nobody holds, oldest due first; rows another dispatcher
-- is claiming are skipped, not waited for.
UPDATE outbox SET claimed_by = $1, claimed_until = $2
WHERE id IN (
    SELECT id FROM outbox
    WHERE state = 'pending'
      AND next_attempt_at <= $3
      AND (claimed_until IS NULL OR claimed_until < $3)
      AND channel = ANY($4::text[])
    ORDER BY next_attempt_at
    LIMIT $5
    FOR UPDATE SKIP LOCKED)
RETURNING *;
