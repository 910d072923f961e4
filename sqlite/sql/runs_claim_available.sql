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
    -- Claims go in the order of available_at − priority × 10 s (10^7 µs).
    -- Runs of priority 0 are walked in the order they became available,
    -- up to now; prioritized runs in their aged order, up to the latest
    -- aged time a due run can have (now + 100 × 10 s); the oldest of both
    -- walks are claimed. Without the hints SQLite prefers runs_status and
    -- sorts every pending run per claim.
    SELECT id FROM (
        SELECT * FROM (
            SELECT id, available_at AS claim_at FROM runs INDEXED BY runs_claimable
            WHERE status IN ('pending', 'retrying', 'waiting')
              AND priority = 0
              AND available_at <= ?3
              AND workflow IN (SELECT value FROM json_each(?4))
              AND workflow NOT IN (SELECT workflow FROM breakers WHERE state = 'open' AND until > ?3)
            ORDER BY available_at
            LIMIT ?5)
        UNION ALL
        SELECT * FROM (
            SELECT id, available_at - priority * 10000000 AS claim_at FROM runs INDEXED BY runs_claimable_prioritized
            WHERE status IN ('pending', 'retrying', 'waiting')
              AND priority <> 0
              AND available_at - priority * 10000000 <= ?3 + 1000000000
              AND available_at <= ?3
              AND workflow IN (SELECT value FROM json_each(?4))
              AND workflow NOT IN (SELECT workflow FROM breakers WHERE state = 'open' AND until > ?3)
            ORDER BY available_at - priority * 10000000
            LIMIT ?5))
    ORDER BY claim_at
    LIMIT ?5)
RETURNING *;
