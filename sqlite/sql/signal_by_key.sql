SELECT * FROM signals WHERE run_id = ?1 AND idempotency_key = ?2;
