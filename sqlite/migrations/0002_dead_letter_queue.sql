-- The dead-letter queue: entries for dead runs, their notification outbox, the
-- record of purges, and what replays need on runs and steps.

ALTER TABLE runs ADD COLUMN attempt_offset INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN step_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN replay_of TEXT;

ALTER TABLE steps ADD COLUMN resolved_by TEXT;

-- Steps a from-step replay discarded: kept, never overwritten.
CREATE TABLE steps_archive (
    run_id          TEXT NOT NULL,
    generation      INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    epoch           INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    output          BLOB NOT NULL,
    started_at      INTEGER NOT NULL,
    finished_at     INTEGER NOT NULL,
    discarded_at    INTEGER NOT NULL,
    discarded_by    TEXT NOT NULL,
    PRIMARY KEY (run_id, generation, seq)
) STRICT;

CREATE TABLE dlq_entries (
    id               TEXT PRIMARY KEY,
    run_id           TEXT NOT NULL,
    workflow         TEXT NOT NULL,
    workflow_version INTEGER NOT NULL,
    class            TEXT NOT NULL,
    reason           TEXT NOT NULL,
    step             TEXT,
    step_seq         INTEGER,
    output_schema    TEXT,
    input            BLOB NOT NULL,
    entities         TEXT NOT NULL DEFAULT '{}',
    channel          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('open', 'replayed', 'resolved', 'discarded')),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    closed_by        TEXT,
    closed_at        INTEGER,
    close_reason     TEXT,
    replay_mode      TEXT,
    replay_run_id    TEXT
) STRICT;

-- A run has at most one open entry at a time.
CREATE UNIQUE INDEX dlq_entries_open_run ON dlq_entries (run_id) WHERE state = 'open';
CREATE INDEX dlq_entries_run ON dlq_entries (run_id);
CREATE INDEX dlq_entries_class ON dlq_entries (class, id);
CREATE INDEX dlq_entries_state ON dlq_entries (state, id);

CREATE TABLE outbox (
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
    delivered_at    INTEGER
) STRICT;

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_entry ON outbox (entry_id);

CREATE TABLE dlq_purges (
    id        INTEGER PRIMARY KEY,
    actor     TEXT NOT NULL,
    at        INTEGER NOT NULL,
    filter    TEXT NOT NULL,
    entries   INTEGER NOT NULL,
    entry_ids TEXT NOT NULL
) STRICT;
