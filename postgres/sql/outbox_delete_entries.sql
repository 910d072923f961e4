DELETE FROM outbox WHERE entry_id = ANY($1::text[]);
