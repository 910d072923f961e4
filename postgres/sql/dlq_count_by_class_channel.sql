-- Entries matching the filters of dlq_list_by_id.sql, counted by class and
-- channel.
SELECT class, channel, count(*) FROM dlq_entries
WHERE (cardinality($1::text[]) = 0 OR class = ANY($1::text[]))
  AND (cardinality($2::text[]) = 0 OR state = ANY($2::text[]))
  AND ($3 = '' OR workflow = $3)
  AND ($4 = '' OR channel = $4)
  AND ($5::timestamptz IS NULL OR created_at >= $5)
  AND ($6::timestamptz IS NULL OR created_at < $6)
  AND ($7::jsonb = '{}' OR (entities <> '{}' AND entities @> $7::jsonb))
GROUP BY class, channel
ORDER BY class, channel;
