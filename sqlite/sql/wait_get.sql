SELECT w.*, r.workflow, r.entities FROM waits w JOIN runs r ON r.id = w.run_id
WHERE w.run_id = ?1 AND w.seq = ?2;
