-- Alerts newest first: those in the states of ?1 (every state when NULL),
-- resolved ones only from ?2 on.
SELECT * FROM alerts
WHERE (?1 IS NULL OR state IN (SELECT value FROM json_each(?1)))
  AND (state = 'firing' OR ?2 IS NULL OR resolved_at >= ?2)
ORDER BY started_at DESC, id DESC
LIMIT ?3;
