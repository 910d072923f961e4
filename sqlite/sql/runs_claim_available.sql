UPDATE runs SET
    status = 'running',
    lease_holder = ?1,
    lease_expires_at = ?2,
    epoch = epoch + 1,
    -- A waiting run resumes the attempt that reached its wait.
    attempt = attempt + (CASE WHEN status = 'waiting' THEN 0 ELSE 1 END),
    started_at = coalesce(started_at, ?3),
    updated_at = ?3
WHERE id IN (
    -- Walk the claimable runs in the order they became available; without the
    -- hint SQLite prefers runs_status and sorts every pending run per claim.
    SELECT id FROM runs INDEXED BY runs_claimable
    WHERE status IN ('pending', 'retrying', 'waiting')
      AND available_at <= ?3
      AND workflow IN (SELECT value FROM json_each(?4))
      AND workflow NOT IN (SELECT workflow FROM breakers WHERE state = 'open' AND until > ?3)
    ORDER BY available_at
    LIMIT ?5)
RETURNING *;
