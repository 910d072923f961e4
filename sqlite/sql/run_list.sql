-- Every filter is optional: an empty workflow, an empty status list, an empty
-- cursor or an empty entity object does not filter.
SELECT * FROM runs
WHERE (?1 = '' OR workflow = ?1)
  AND (?2 = '[]' OR status IN (SELECT value FROM json_each(?2)))
  AND (?3 = '' OR id < ?3)
  AND NOT EXISTS (
      SELECT 1 FROM json_each(?4) AS wanted
      WHERE NOT EXISTS (
          SELECT 1 FROM run_entities AS e
          WHERE e.key = wanted.key AND e.value = wanted.value AND e.run_id = runs.id))
ORDER BY id DESC
LIMIT ?5;
