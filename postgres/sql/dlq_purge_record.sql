INSERT INTO dlq_purges (actor, at, filter, entries, entry_ids) VALUES ($1, $2, $3, $4, $5);
