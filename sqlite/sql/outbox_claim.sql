UPDATE outbox SET claimed_by = ?1, claimed_until = ?2
WHERE id IN (
    SELECT id FROM outbox INDEXED BY outbox_due
    WHERE state = 'pending'
      AND next_attempt_at <= ?3
      AND (claimed_until IS NULL OR claimed_until < ?3)
      AND channel IN (SELECT value FROM json_each(?4))
    ORDER BY next_attempt_at
    LIMIT ?5)
RETURNING *;
