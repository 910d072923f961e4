DELETE FROM attempts WHERE run_id = ANY($1::text[]);
