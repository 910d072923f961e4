DELETE FROM dlq_entries WHERE id IN (SELECT value FROM json_each(?1));
