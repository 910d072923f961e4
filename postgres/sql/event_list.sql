SELECT * FROM events WHERE run_id = $1 ORDER BY id;
