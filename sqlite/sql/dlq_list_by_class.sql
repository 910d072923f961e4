-- Entries of one class, walked backwards along the (class, id) index: the
-- first page costs a page of rows, however many entries the queue holds.
SELECT * FROM dlq_entries INDEXED BY dlq_entries_class
WHERE class = ?10
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
