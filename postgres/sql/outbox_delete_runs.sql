DELETE FROM outbox WHERE entry_id IN (SELECT id FROM dlq_entries WHERE run_id = ANY($1::text[]));
