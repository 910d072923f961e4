DELETE FROM outbox WHERE entry_id IN (SELECT id FROM dlq_entries WHERE run_id IN (SELECT value FROM json_each(?1)));
