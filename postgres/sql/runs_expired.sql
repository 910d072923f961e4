-- The oldest ended runs of a workflow that retention may delete: finished
-- before $2, in one of the statuses $3, with no open dead-letter entry.
-- Walks runs_finished in order, so a batch costs its size.
SELECT id FROM runs
WHERE workflow = $1 AND finished_at IS NOT NULL AND finished_at < $2
  AND status = ANY($3::text[])
  AND NOT EXISTS (SELECT 1 FROM dlq_entries d WHERE d.run_id = runs.id AND d.state = 'open')
ORDER BY finished_at
LIMIT $4;
