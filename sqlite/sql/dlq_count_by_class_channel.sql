-- Entries matching the filters of dlq_list_by_id.sql, counted by class and
-- channel.
SELECT class, channel, count(*) FROM dlq_entries
WHERE (?1 = '[]' OR class IN (SELECT value FROM json_each(?1)))
  AND (?2 = '[]' OR state IN (SELECT value FROM json_each(?2)))
  AND (?3 = '' OR workflow = ?3)
  AND (?4 = '' OR channel = ?4)
  AND (?5 = 0 OR created_at >= ?5)
  AND (?6 = 0 OR created_at < ?6)
  AND NOT EXISTS (
      SELECT 1 FROM json_each(?7) AS wanted
      WHERE NOT EXISTS (
          SELECT 1 FROM run_entities AS e
          WHERE e.key = wanted.key AND e.value = wanted.value AND e.run_id = dlq_entries.run_id))
GROUP BY class, channel
ORDER BY class, channel;
