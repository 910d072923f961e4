INSERT INTO run_entities (key, value, run_id)
SELECT key, value, ?1 FROM run_entities WHERE run_id = ?2;
