-- An attempt that never reached the handler (the dispatcher was stopping) gives
-- the notification back without counting; a success keeps the last error, so
-- the entry still shows why earlier attempts failed.
UPDATE outbox SET
    state = $3,
    attempts = attempts + $7,
    next_attempt_at = $4,
    last_error = coalesce($5, last_error),
    delivered_at = CASE WHEN $3 = 'delivered' THEN $6::timestamptz END,
    claimed_by = NULL,
    claimed_until = NULL
WHERE id = $1 AND claimed_by = $2 AND state = 'pending';
