SELECT w.*, r.workflow, r.entities FROM waits w JOIN runs r ON r.id = w.run_id
WHERE w.child_run_id = $1 AND w.state = 'waiting'
ORDER BY w.seq LIMIT 1;
