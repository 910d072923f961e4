SELECT * FROM attempts WHERE run_id = $1 ORDER BY id;
