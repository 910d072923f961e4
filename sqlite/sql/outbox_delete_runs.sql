-- The notifications of the runs' dead-letter entries, and of their approval
-- requests (whose entry is the run).
DELETE FROM outbox WHERE entry_id IN (SELECT id FROM dlq_entries WHERE run_id IN (SELECT value FROM json_each(?1)))
   OR (kind = 'approval' AND entry_id IN (SELECT value FROM json_each(?1)));
