DELETE FROM events WHERE run_id = ANY($1::text[]);
