-- The claim of a worker hosting more workflows than one statement of
-- claim_available.go can walk (maxClaimWorkflows): every workflow's due runs
-- are read on the claim indexes, which lead with the workflow, and sorted
-- together in the order of available_at − priority × 10 s; the first ?5 are
-- claimed, skipping workflows whose breaker is open.
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
    SELECT id FROM runs
    WHERE status IN ('pending', 'retrying', 'waiting')
      AND available_at <= ?3
      AND available_at - priority * 10000000 <= ?3 + 1000000000
      AND workflow IN (SELECT value FROM json_each(?4))
      AND workflow NOT IN (SELECT workflow FROM breakers WHERE state = 'open' AND until > ?3)
    ORDER BY available_at - priority * 10000000
    LIMIT ?5)
RETURNING *;
