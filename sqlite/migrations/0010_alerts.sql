-- Alerts: one row per firing episode of an alert rule for a workflow (and
-- failure class), from the evaluation that found its condition holding to the
-- one that found it cleared. At most one episode of a rule and key fires at a
-- time, so of two servers evaluating at once one fires.
CREATE TABLE alerts (
    id               TEXT PRIMARY KEY,
    rule             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    workflow         TEXT NOT NULL,
    class            TEXT NOT NULL,
    severity         TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
    state            TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
    summary          TEXT NOT NULL,
    value            REAL NOT NULL,
    threshold        REAL NOT NULL,
    run_ids          TEXT NOT NULL DEFAULT '[]',
    started_at       INTEGER NOT NULL,
    resolved_at      INTEGER,
    last_notified_at INTEGER,
    notifications    INTEGER NOT NULL DEFAULT 0,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX alerts_firing ON alerts (rule, workflow, class) WHERE state = 'firing';
CREATE INDEX alerts_started ON alerts (started_at, id);
CREATE INDEX alerts_resolved ON alerts (resolved_at) WHERE state = 'resolved';

-- Alert rules count dead-letter entries by when they were created, with the
-- index the stats series adds in the next migration (dlq_entries_created).

-- Alert notifications share the outbox with dead-letter and breaker
-- notifications: its kind check gains 'alert', which SQLite can only do by
-- building the table again.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    entry_id        TEXT NOT NULL,
    channel         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'given_up')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_by      TEXT,
    claimed_until   INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    kind            TEXT NOT NULL DEFAULT 'dead_letter' CHECK (kind IN ('dead_letter', 'breaker', 'alert')),
    payload         TEXT
) STRICT;

INSERT INTO outbox_new (id, entry_id, channel, state, attempts, next_attempt_at, claimed_by, claimed_until,
                        last_error, created_at, delivered_at, kind, payload)
SELECT id, entry_id, channel, state, attempts, next_attempt_at, claimed_by, claimed_until,
       last_error, created_at, delivered_at, kind, payload
FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_entry ON outbox (entry_id);
