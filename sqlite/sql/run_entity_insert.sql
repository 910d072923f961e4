INSERT INTO run_entities (key, value, run_id) VALUES (?1, ?2, ?3);
