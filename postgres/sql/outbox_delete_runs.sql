-- The notifications of the runs' dead-letter entries, and of their approval
-- requests (whose entry is the run).
DELETE FROM outbox WHERE entry_id IN (SELECT id FROM dlq_entries WHERE run_id = ANY($1::text[]))
   OR (kind = 'approval' AND entry_id = ANY($1::text[]));
