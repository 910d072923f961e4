-- Only closed entries: a run with an open entry is never deleted. What is
-- deleted stays counted in the deleted counts.
WITH deleted AS (
    DELETE FROM dlq_entries WHERE run_id = ANY($1::text[]) AND state <> 'open'
    RETURNING workflow, class
)
INSERT INTO dlq_counts_deleted AS t (workflow, class, entries)
SELECT workflow, class, count(*) FROM deleted GROUP BY workflow, class
ON CONFLICT (workflow, class) DO UPDATE SET entries = t.entries + excluded.entries;
