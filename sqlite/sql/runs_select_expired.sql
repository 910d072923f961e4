-- Runs whose holder stopped heartbeating: their lease ran out while they were
-- running or compensating.
SELECT id, lease_holder, lease_expires_at, attempt, started_at FROM runs INDEXED BY runs_leased
WHERE status IN ('running', 'compensating')
  AND lease_expires_at < ?1
  AND workflow IN (SELECT value FROM json_each(?2))
ORDER BY lease_expires_at
LIMIT ?3;
