-- Claims pending and retrying runs in the order they became available,
-- skipping rows other workers are claiming and workflows whose breaker is open.
-- = ANY(ARRAY(…)) keeps the update on the primary key; with IN (…) the planner
-- may hash-join against a scan of every run.
UPDATE runs SET
    status = 'running',
    lease_holder = $1,
    lease_expires_at = $2,
    epoch = epoch + 1,
    attempt = attempt + 1,
    started_at = coalesce(started_at, $3),
    updated_at = $3
WHERE id = ANY(ARRAY(
    SELECT id FROM runs
    WHERE status IN ('pending', 'retrying')
      AND available_at <= $3
      AND workflow = ANY($4::text[])
      AND workflow NOT IN (SELECT workflow FROM breakers WHERE state = 'open' AND until > $3)
    ORDER BY available_at
    LIMIT $5
    FOR UPDATE SKIP LOCKED))
RETURNING *;
