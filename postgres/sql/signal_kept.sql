SELECT * FROM signals WHERE run_id = $1 AND name = $2 AND consumed_seq IS NULL;
