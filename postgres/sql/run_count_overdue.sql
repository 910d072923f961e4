-- A workflow's unfinished runs in the statuses of $2, enqueued before $3 (any
-- when NULL), pending, retrying or waiting ones only once available before $4 (any when
-- NULL): their count, and the oldest $5.
SELECT id, count(*) OVER () AS total FROM runs
WHERE workflow = $1
  AND status = ANY($2::text[])
  AND ($3::timestamptz IS NULL OR created_at < $3)
  AND ($4::timestamptz IS NULL OR status NOT IN ('pending', 'retrying', 'waiting') OR available_at < $4)
ORDER BY created_at, id
LIMIT $5;
