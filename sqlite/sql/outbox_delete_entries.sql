DELETE FROM outbox WHERE entry_id IN (SELECT value FROM json_each(?1));
