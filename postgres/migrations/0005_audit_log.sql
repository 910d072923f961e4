-- One append-only record of every operator action, written in the
-- transaction of the act itself. Nothing in Klaxon deletes from it.
CREATE TABLE audit_log (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     timestamptz NOT NULL,
    actor  text NOT NULL,
    action text NOT NULL CHECK (action IN ('dlq.replay', 'dlq.resolve', 'dlq.discard', 'dlq.purge',
                                           'run.cancel', 'breaker.reset', 'outbox.give_up', 'retention.delete')),
    target text NOT NULL,
    params jsonb NOT NULL,
    result text NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
