SELECT * FROM outbox WHERE entry_id = $1 ORDER BY id;
