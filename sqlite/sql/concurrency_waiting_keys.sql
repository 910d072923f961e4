-- The concurrency keys that have runs waiting for a slot.
SELECT DISTINCT concurrency_key FROM runs INDEXED BY runs_concurrency
WHERE concurrency_key IS NOT NULL AND concurrency_slot = 'waiting'
  AND status IN ('pending', 'running', 'retrying', 'waiting', 'compensating')
ORDER BY concurrency_key;
