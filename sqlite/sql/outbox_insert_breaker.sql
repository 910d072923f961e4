INSERT INTO outbox (entry_id, channel, state, next_attempt_at, created_at, kind, payload)
VALUES ('', ?1, 'pending', ?2, ?2, 'breaker', ?3);
