-- Entries of one run (a run replayed and dead again has several), on the
-- run_id index.
SELECT * FROM dlq_entries
WHERE run_id = $10
  AND (cardinality($1::text[]) = 0 OR class = ANY($1::text[]))
  AND (cardinality($2::text[]) = 0 OR state = ANY($2::text[]))
  AND ($3 = '' OR workflow = $3)
  AND ($4 = '' OR channel = $4)
  AND ($5::timestamptz IS NULL OR created_at >= $5)
  AND ($6::timestamptz IS NULL OR created_at < $6)
  AND ($7 = '' OR id < $7)
  AND ($8::jsonb = '{}' OR (entities <> '{}' AND entities @> $8::jsonb))
ORDER BY id DESC
LIMIT $9;
