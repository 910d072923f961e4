DELETE FROM signals WHERE run_id = ANY($1::text[]);
