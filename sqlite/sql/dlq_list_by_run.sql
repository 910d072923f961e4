-- Entries of one run (a run replayed and dead again has several), on the
-- run_id index.
SELECT * FROM dlq_entries INDEXED BY dlq_entries_run
WHERE run_id = ?10
  AND (?1 = '[]' OR class IN (SELECT value FROM json_each(?1)))
  AND (?2 = '[]' OR state IN (SELECT value FROM json_each(?2)))
  AND (?3 = '' OR workflow = ?3)
  AND (?4 = '' OR channel = ?4)
  AND (?5 = 0 OR created_at >= ?5)
  AND (?6 = 0 OR created_at < ?6)
  AND (?7 = '' OR id < ?7)
  AND NOT EXISTS (
      SELECT 1 FROM json_each(?8) AS wanted
      WHERE NOT EXISTS (
          SELECT 1 FROM run_entities AS e
          WHERE e.key = wanted.key AND e.value = wanted.value AND e.run_id = dlq_entries.run_id))
ORDER BY id DESC
LIMIT ?9;
