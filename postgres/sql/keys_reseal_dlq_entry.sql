UPDATE dlq_entries SET input = $2 WHERE id = $1 AND input = $3;
