-- A step's step.completed event goes with it (event_list.sql).
INSERT INTO steps_archive (run_id, generation, seq, name, status, attempt, epoch, idempotency_key,
                           output, started_at, finished_at, discarded_at, discarded_by,
                           event_id, event_actor, event_at)
SELECT run_id, (SELECT step_generation FROM runs WHERE id = $1), seq, name, status, attempt, epoch,
       idempotency_key, output, started_at, finished_at, $3, $4, event_id, event_actor, event_at
FROM steps WHERE run_id = $1 AND seq >= $2;
