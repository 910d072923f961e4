-- Counts in the deleted counts the entries of ?1 that dlq_delete.sql (a
-- purge) is about to delete.
INSERT INTO dlq_counts_deleted (workflow, class, entries)
SELECT workflow, class, count(*) FROM dlq_entries
WHERE id IN (SELECT value FROM json_each(?1))
GROUP BY workflow, class
ON CONFLICT (workflow, class) DO UPDATE SET entries = entries + excluded.entries;
