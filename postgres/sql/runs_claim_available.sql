-- Claims pending and retrying runs in the order they became available,
-- skipping rows other workers are claiming and workflows whose breaker is open.
-- Each workflow's oldest runs come from a top-N scan of runs_claimable (a scan
-- for all workflows at once made PostgreSQL sort the whole backlog on every
-- claim); the oldest of those are claimed, and = ANY(ARRAY(…)) keeps the
-- update on the primary key. Candidates locked but not claimed are released
-- when the claim commits.
UPDATE runs SET
    status = 'running',
    lease_holder = $1,
    lease_expires_at = $2,
    epoch = epoch + 1,
    attempt = attempt + 1,
    started_at = coalesce(started_at, $3),
    updated_at = $3
WHERE id = ANY(ARRAY(
    SELECT c.id
    FROM unnest($4::text[]) AS w(name)
    CROSS JOIN LATERAL (
        SELECT id, available_at FROM runs
        WHERE workflow = w.name
          AND status IN ('pending', 'retrying')
          AND available_at <= $3
        ORDER BY available_at
        LIMIT $5
        FOR UPDATE SKIP LOCKED) c
    WHERE w.name NOT IN (SELECT workflow FROM breakers WHERE state = 'open' AND until > $3)
    ORDER BY c.available_at
    LIMIT $5))
RETURNING *;
