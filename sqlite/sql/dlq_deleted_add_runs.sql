-- Counts in the deleted counts the closed entries of the runs of ?1 that
-- dlq_delete_runs.sql is about to delete, with the same conditions.
INSERT INTO dlq_counts_deleted (workflow, class, entries)
SELECT workflow, class, count(*) FROM dlq_entries
WHERE run_id IN (SELECT value FROM json_each(?1)) AND state <> 'open'
GROUP BY workflow, class
ON CONFLICT (workflow, class) DO UPDATE SET entries = entries + excluded.entries;
