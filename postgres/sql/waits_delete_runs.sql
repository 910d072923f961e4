DELETE FROM waits WHERE run_id = ANY($1::text[]);
