SELECT * FROM runs WHERE workflow = $1 AND idempotency_key = $2;
