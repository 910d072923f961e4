-- Open waits (?3) are those of waiting runs still waiting: the approvals
-- inbox reads them through waits_open, oldest first.
SELECT w.*, r.workflow, r.entities FROM waits w JOIN runs r ON r.id = w.run_id
WHERE (?1 IS NULL OR w.run_id = ?1)
  AND (?2 IS NULL OR w.kind = ?2)
  AND (NOT ?3 OR (w.state = 'waiting' AND r.status = 'waiting'))
ORDER BY w.started_at, w.run_id, w.seq
LIMIT ?4;
