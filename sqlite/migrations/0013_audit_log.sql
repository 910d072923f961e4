-- One append-only record of every operator action, written in the
-- transaction of the act itself. Nothing in Klaxon deletes from it.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('dlq.replay', 'dlq.resolve', 'dlq.discard', 'dlq.purge',
                                           'run.cancel', 'breaker.reset', 'outbox.give_up', 'retention.delete')),
    target TEXT NOT NULL,
    params TEXT NOT NULL,
    result TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
