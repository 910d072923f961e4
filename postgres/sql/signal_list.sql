SELECT * FROM signals WHERE run_id = $1 ORDER BY id;
