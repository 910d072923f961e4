-- Breaker notifications share the outbox with dead-letter notifications: a
-- row is of one kind, with the breaker's JSON as its payload.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'dead_letter' CHECK (kind IN ('dead_letter', 'breaker'));
ALTER TABLE outbox ADD COLUMN payload TEXT;
