SELECT * FROM steps WHERE run_id = ANY($1::text[]) ORDER BY run_id, seq;
