-- An attempt that never reached the handler (the dispatcher was stopping) gives
-- the notification back without counting; a failure without an error keeps
-- the last one, and ?8 (a success) clears it.
UPDATE outbox SET
    state = ?3,
    attempts = attempts + ?7,
    next_attempt_at = ?4,
    last_error = CASE WHEN ?8 THEN NULL ELSE coalesce(?5, last_error) END,
    delivered_at = CASE WHEN ?3 = 'delivered' THEN ?6 END,
    claimed_by = NULL,
    claimed_until = NULL
WHERE id = ?1 AND claimed_by = ?2 AND state = 'pending';
