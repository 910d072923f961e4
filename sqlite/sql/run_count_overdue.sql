-- A workflow's unfinished runs in the statuses of ?2, enqueued before ?3 (any
-- when NULL), pending, retrying or waiting ones only once available before ?4 (any when
-- NULL): their count, and the oldest ?5.
SELECT id, count(*) OVER () AS total FROM runs
WHERE workflow = ?1
  AND status IN (SELECT value FROM json_each(?2))
  AND (?3 IS NULL OR created_at < ?3)
  AND (?4 IS NULL OR status NOT IN ('pending', 'retrying', 'waiting') OR available_at < ?4)
ORDER BY created_at, id
LIMIT ?5;
