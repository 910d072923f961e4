INSERT INTO signals (run_id, name, payload, actor, idempotency_key, sent_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
RETURNING id;
