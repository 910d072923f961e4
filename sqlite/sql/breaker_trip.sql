INSERT INTO breakers (workflow, state, reason, opened_at, until, opened_by)
VALUES (?1, 'open', ?2, ?3, ?4, ?5)
ON CONFLICT (workflow) DO UPDATE SET
    opened_at = CASE WHEN breakers.state = 'open' AND breakers.until > ?3 THEN breakers.opened_at ELSE excluded.opened_at END,
    state = 'open',
    reason = excluded.reason,
    until = max(excluded.until, CASE WHEN breakers.state = 'open' THEN breakers.until ELSE 0 END),
    opened_by = excluded.opened_by,
    reset_at = NULL,
    reset_by = NULL;
