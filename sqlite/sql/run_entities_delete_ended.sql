-- The entity labels of the runs of ?1 (a JSON array of IDs) that
-- runs_delete_ended.sql deletes next, looked up by their primary key.
DELETE FROM run_entities WHERE (key, value, run_id) IN (
    SELECT e.key, e.value, r.id
    FROM runs r, json_each(r.entities) e
    WHERE r.id IN (SELECT value FROM json_each(?1)) AND r.finished_at IS NOT NULL
      AND +r.status IN ('completed', 'dead', 'cancelled')
      AND NOT EXISTS (SELECT 1 FROM dlq_entries d WHERE d.run_id = r.id AND d.state = 'open'));
