-- Every filter is optional: an empty workflow, an empty status list, an empty
-- cursor, an empty entity object or a null time does not filter. created_at is
-- bounded from $6 inclusive to $7 exclusive, as the DLQ list is.
SELECT * FROM runs
WHERE ($1 = '' OR workflow = $1)
  AND (cardinality($2::text[]) = 0 OR status = ANY($2::text[]))
  AND ($3 = '' OR id < $3)
  AND ($6::timestamptz IS NULL OR created_at >= $6)
  AND ($7::timestamptz IS NULL OR created_at < $7)
  AND ($4::jsonb = '{}' OR (entities <> '{}' AND entities @> $4::jsonb))
ORDER BY id DESC
LIMIT $5;
