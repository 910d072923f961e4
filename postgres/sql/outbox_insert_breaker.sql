INSERT INTO outbox (kind, entry_id, channel, state, next_attempt_at, created_at, payload)
VALUES ('breaker', '', $1, 'pending', $2, $2, $3);
