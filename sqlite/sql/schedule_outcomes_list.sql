-- The run's status as it is now; none when retention deleted the run.
SELECT o.tick, o.decision, o.run_id, r.status AS run_status, o.reason, o.decided_at
FROM schedule_outcomes o
LEFT JOIN runs r ON r.id = o.run_id
WHERE o.schedule = ?1
ORDER BY o.tick DESC
LIMIT ?2;
