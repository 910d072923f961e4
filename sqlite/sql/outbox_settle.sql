UPDATE outbox SET
    state = ?3,
    attempts = attempts + 1,
    next_attempt_at = ?4,
    last_error = ?5,
    delivered_at = CASE WHEN ?3 = 'delivered' THEN ?6 END,
    claimed_by = NULL,
    claimed_until = NULL
WHERE id = ?1 AND claimed_by = ?2 AND state = 'pending';
