-- Deletes the runs of $1 that are still ended with no open dead-letter
-- entry, and returns their IDs: what retention deletes.
DELETE FROM runs
WHERE id = ANY($1::text[]) AND finished_at IS NOT NULL
  AND status IN ('completed', 'dead', 'cancelled')
  AND NOT EXISTS (SELECT 1 FROM dlq_entries d WHERE d.run_id = runs.id AND d.state = 'open')
RETURNING id;
