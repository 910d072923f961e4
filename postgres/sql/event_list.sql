-- A run's event log: the events table's rows, and the step.completed events
-- kept in the step log's rows (steps_checkpoint.sql), of the steps in force
-- and of those a replay discarded, in the order of their IDs, which come from
-- one sequence.
SELECT id, run_id, type, actor, at, step, step_seq, message, record
FROM events WHERE run_id = $1
UNION ALL
SELECT event_id, run_id, 'step.completed', event_actor, event_at, name, seq, NULL, NULL
FROM steps WHERE run_id = $1 AND event_id IS NOT NULL
UNION ALL
SELECT event_id, run_id, 'step.completed', event_actor, event_at, name, seq, NULL, NULL
FROM steps_archive WHERE run_id = $1 AND event_id IS NOT NULL
ORDER BY id;
