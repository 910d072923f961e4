DELETE FROM dlq_entries WHERE id = ANY($1::text[]);
