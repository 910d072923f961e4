-- Deletes the runs of ?1 (a JSON array of IDs) that are still ended with no
-- open dead-letter entry, and returns their IDs: what retention deletes.
-- The unary + keeps the planner on the primary key rather than runs_status,
-- which would walk every ended run.
DELETE FROM runs
WHERE id IN (SELECT value FROM json_each(?1)) AND finished_at IS NOT NULL
  AND +status IN ('completed', 'dead', 'cancelled')
  AND NOT EXISTS (SELECT 1 FROM dlq_entries d WHERE d.run_id = runs.id AND d.state = 'open')
RETURNING id;
