-- Every filter is optional: an empty workflow, an empty status list, an empty
-- cursor, an empty entity object or a zero time does not filter. created_at is
-- bounded from ?6 inclusive to ?7 exclusive, as the DLQ list is.
SELECT * FROM runs
WHERE (?1 = '' OR workflow = ?1)
  AND (?2 = '[]' OR status IN (SELECT value FROM json_each(?2)))
  AND (?3 = '' OR id < ?3)
  AND (?6 = 0 OR created_at >= ?6)
  AND (?7 = 0 OR created_at < ?7)
  AND NOT EXISTS (
      SELECT 1 FROM json_each(?4) AS wanted
      WHERE NOT EXISTS (
          SELECT 1 FROM run_entities AS e
          WHERE e.key = wanted.key AND e.value = wanted.value AND e.run_id = runs.id))
ORDER BY id DESC
LIMIT ?5;
