-- Every filter is optional: an empty workflow, an empty status list, an empty
-- cursor or an empty entity object does not filter.
SELECT * FROM runs
WHERE ($1 = '' OR workflow = $1)
  AND (cardinality($2::text[]) = 0 OR status = ANY($2::text[]))
  AND ($3 = '' OR id < $3)
  AND ($4::jsonb = '{}' OR (entities <> '{}' AND entities @> $4::jsonb))
ORDER BY id DESC
LIMIT $5;
