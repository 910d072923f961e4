-- Opens a breaker that is closed, or whose cool-down ended, and returns it; a
-- breaker still open is left alone (but locked) and nothing is returned, so
-- that of two trips at once exactly one opens it.
INSERT INTO breakers (workflow, state, reason, opened_at, until, opened_by)
VALUES ($1, 'open', $2, $3, $4, $5)
ON CONFLICT (workflow) DO UPDATE SET
    state = 'open',
    reason = excluded.reason,
    opened_at = excluded.opened_at,
    until = greatest(excluded.until, CASE WHEN breakers.state = 'open' THEN breakers.until END),
    opened_by = excluded.opened_by,
    reset_at = NULL,
    reset_by = NULL
WHERE NOT (breakers.state = 'open' AND breakers.until > excluded.opened_at)
RETURNING *;
