-- A purge's delete; what is deleted stays counted in the deleted counts.
WITH deleted AS (
    DELETE FROM dlq_entries WHERE id = ANY($1::text[])
    RETURNING workflow, class
)
INSERT INTO dlq_counts_deleted AS t (workflow, class, entries)
SELECT workflow, class, count(*) FROM deleted GROUP BY workflow, class
ON CONFLICT (workflow, class) DO UPDATE SET entries = t.entries + excluded.entries;
