-- When a worker last showed itself on a workflow's runs: the latest claim or
-- heartbeat of a run held now, and the latest run that completed or died.
SELECT
    (SELECT max(updated_at) FROM runs
     WHERE workflow = $1 AND status IN ('running', 'compensating')) AS last_lease_at,
    (SELECT finished_at FROM runs
     WHERE workflow = $1 AND finished_at IS NOT NULL AND status IN ('completed', 'dead')
     ORDER BY finished_at DESC LIMIT 1) AS last_finished_at;
