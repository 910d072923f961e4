INSERT INTO outbox (entry_id, channel, state, next_attempt_at, created_at, kind, payload)
VALUES (?1, ?2, 'pending', ?3, ?3, ?4, ?5);
