-- The first Klaxon schema: workflows, runs, entities, the step log, the event
-- log and the attempt history. Times are Unix microseconds.

CREATE TABLE workflows (
    name           TEXT PRIMARY KEY,
    version        INTEGER NOT NULL,
    expected_steps TEXT NOT NULL DEFAULT '[]',
    registered_at  INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    workflow         TEXT NOT NULL,
    workflow_version INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
        ('pending', 'running', 'retrying', 'completed', 'compensating', 'dead', 'cancelled')),
    input            BLOB NOT NULL,
    output           BLOB,
    idempotency_key  TEXT,
    entities         TEXT NOT NULL DEFAULT '{}',
    attempt          INTEGER NOT NULL DEFAULT 0,
    retries          INTEGER NOT NULL DEFAULT 0,
    epoch            INTEGER NOT NULL DEFAULT 0,
    lease_holder     TEXT,
    lease_expires_at INTEGER,
    available_at     INTEGER NOT NULL,
    failure_class    TEXT,
    failure_reason   TEXT,
    failed_step      TEXT,
    failed_step_seq  INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER
) STRICT;

CREATE UNIQUE INDEX runs_idempotency_key ON runs (workflow, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_claimable ON runs (available_at)
    WHERE status IN ('pending', 'retrying');
CREATE INDEX runs_leased ON runs (lease_expires_at)
    WHERE status IN ('running', 'compensating');
CREATE INDEX runs_status ON runs (status, workflow);
CREATE INDEX runs_workflow ON runs (workflow, id);

CREATE TABLE run_entities (
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (key, value, run_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE steps (
    run_id             TEXT NOT NULL,
    seq                INTEGER NOT NULL,
    name               TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('completed', 'compensated', 'compensation_failed')),
    attempt            INTEGER NOT NULL,
    epoch              INTEGER NOT NULL,
    idempotency_key    TEXT NOT NULL,
    output             BLOB NOT NULL,
    started_at         INTEGER NOT NULL,
    finished_at        INTEGER NOT NULL,
    compensated_at     INTEGER,
    compensation_error TEXT,
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    run_id   TEXT NOT NULL,
    type     TEXT NOT NULL,
    actor    TEXT NOT NULL,
    at       INTEGER NOT NULL,
    step     TEXT,
    step_seq INTEGER,
    message  TEXT
) STRICT;

CREATE INDEX events_run ON events (run_id, id);

CREATE TABLE attempts (
    id            INTEGER PRIMARY KEY,
    run_id        TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    worker        TEXT NOT NULL,
    step          TEXT,
    step_seq      INTEGER,
    class         TEXT NOT NULL,
    message       TEXT NOT NULL,
    classified_by TEXT NOT NULL,
    duration_us   INTEGER NOT NULL,
    stack         TEXT
) STRICT;

CREATE INDEX attempts_run ON attempts (run_id, id);
