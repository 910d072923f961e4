SELECT * FROM dlq_entries WHERE id = $1;
