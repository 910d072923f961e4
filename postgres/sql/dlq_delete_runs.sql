-- Only closed entries: a run with an open entry is never deleted.
DELETE FROM dlq_entries WHERE run_id = ANY($1::text[]) AND state <> 'open';
