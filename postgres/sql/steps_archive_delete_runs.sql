DELETE FROM steps_archive WHERE run_id = ANY($1::text[]);
