-- Alerts newest first: those in the states of $1 (every state when NULL),
-- resolved ones only from $2 on.
SELECT * FROM alerts
WHERE ($1::text[] IS NULL OR state = ANY($1::text[]))
  AND (state = 'firing' OR $2::timestamptz IS NULL OR resolved_at >= $2)
ORDER BY started_at DESC, id DESC
LIMIT $3;
