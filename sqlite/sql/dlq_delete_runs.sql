-- Only closed entries: a run with an open entry is never deleted.
DELETE FROM dlq_entries WHERE run_id IN (SELECT value FROM json_each(?1)) AND state <> 'open';
