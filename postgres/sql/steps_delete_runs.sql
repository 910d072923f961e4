DELETE FROM steps WHERE run_id = ANY($1::text[]);
