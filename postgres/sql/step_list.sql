SELECT * FROM steps WHERE run_id = $1 ORDER BY seq;
