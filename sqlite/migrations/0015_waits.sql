-- Durable waits: a run that sleeps, waits for a signal or for a person's
-- approval is 'waiting', holds no lease, and is claimable again once its
-- available_at (the earliest deadline of its open waits, or the moment a
-- signal satisfied one) has passed. The status check gains 'waiting', and the
-- claim index holds waiting runs by the time they become due, so that a claim
-- walks only the due ones; SQLite can change a check only by building the
-- table again.
CREATE TABLE runs_new (
    id               TEXT PRIMARY KEY,
    workflow         TEXT NOT NULL,
    workflow_version INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
        ('pending', 'running', 'retrying', 'waiting', 'completed', 'compensating', 'dead', 'cancelled')),
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
    finished_at      INTEGER,
    attempt_offset   INTEGER NOT NULL DEFAULT 0,
    step_generation  INTEGER NOT NULL DEFAULT 0,
    replay_of        TEXT,
    input_tokens     INTEGER NOT NULL DEFAULT 0,
    output_tokens    INTEGER NOT NULL DEFAULT 0,
    cached_tokens    INTEGER NOT NULL DEFAULT 0,
    cost_usd         REAL NOT NULL DEFAULT 0,
    cost_unknown     INTEGER NOT NULL DEFAULT 0,
    model_calls      INTEGER NOT NULL DEFAULT 0,
    budget_tokens    INTEGER,
    budget_cost_usd  REAL
) STRICT;

INSERT INTO runs_new (id, workflow, workflow_version, status, input, output, idempotency_key, entities,
                      attempt, retries, epoch, lease_holder, lease_expires_at, available_at, failure_class,
                      failure_reason, failed_step, failed_step_seq, created_at, updated_at, started_at,
                      finished_at, attempt_offset, step_generation, replay_of, input_tokens, output_tokens,
                      cached_tokens, cost_usd, cost_unknown, model_calls, budget_tokens, budget_cost_usd)
SELECT id, workflow, workflow_version, status, input, output, idempotency_key, entities,
       attempt, retries, epoch, lease_holder, lease_expires_at, available_at, failure_class,
       failure_reason, failed_step, failed_step_seq, created_at, updated_at, started_at,
       finished_at, attempt_offset, step_generation, replay_of, input_tokens, output_tokens,
       cached_tokens, cost_usd, cost_unknown, model_calls, budget_tokens, budget_cost_usd
FROM runs;

DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
CREATE UNIQUE INDEX runs_idempotency_key ON runs (workflow, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_claimable ON runs (available_at)
    WHERE status IN ('pending', 'retrying', 'waiting');
CREATE INDEX runs_leased ON runs (lease_expires_at)
    WHERE status IN ('running', 'compensating');
CREATE INDEX runs_status ON runs (status, workflow);
CREATE INDEX runs_workflow ON runs (workflow, id);
CREATE INDEX runs_finished ON runs (workflow, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX runs_created ON runs (created_at, workflow);

-- One row per wait a run began, by the step's sequence number: its kind, its
-- absolute deadline (never reset by a replay of the run), and how it ended.
-- The step log holds a satisfied wait's result; a wait that timed out has no
-- step, and its row says so on every later replay.
CREATE TABLE waits (
    run_id     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    name       TEXT NOT NULL,
    -- The wait's step is recorded under this key, whoever ends the wait.
    step_key   TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('sleep', 'signal', 'approval')),
    state      TEXT NOT NULL CHECK (state IN ('waiting', 'satisfied', 'timed_out')),
    started_at INTEGER NOT NULL,
    deadline   INTEGER NOT NULL,
    schema     BLOB,
    request    TEXT,
    ended_at   INTEGER,
    ended_by   TEXT,
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

-- The approvals inbox and the overdue-approval alert read open waits, oldest
-- first.
CREATE INDEX waits_open ON waits (kind, started_at) WHERE state = 'waiting';

-- Signals sent to runs: consumed by the wait of their name (consumed_seq), or
-- kept until the run's next wait of that name begins. A run keeps at most one
-- signal of a name unconsumed, and a key given by the sender makes a repeated
-- send (a retried webhook) answer with the first.
CREATE TABLE signals (
    id              INTEGER PRIMARY KEY,
    run_id          TEXT NOT NULL,
    name            TEXT NOT NULL,
    payload         BLOB NOT NULL,
    actor           TEXT NOT NULL,
    idempotency_key TEXT,
    sent_at         INTEGER NOT NULL,
    consumed_seq    INTEGER,
    consumed_at     INTEGER
) STRICT;
CREATE UNIQUE INDEX signals_unconsumed ON signals (run_id, name) WHERE consumed_seq IS NULL;
CREATE UNIQUE INDEX signals_key ON signals (run_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX signals_run ON signals (run_id, id);

-- Approval requests are notified through the outbox like dead letters: its
-- kind check gains 'approval'.
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
    kind            TEXT NOT NULL DEFAULT 'dead_letter' CHECK (kind IN ('dead_letter', 'breaker', 'alert', 'approval')),
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

-- A person's decision on an approval, and a signal sent, are operator
-- actions: the audit log's action check gains them.
CREATE TABLE audit_log_new (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('dlq.replay', 'dlq.resolve', 'dlq.discard', 'dlq.purge',
                                           'run.cancel', 'breaker.reset', 'outbox.give_up', 'retention.delete',
                                           'approval.decide', 'signal.send')),
    target TEXT NOT NULL,
    params TEXT NOT NULL,
    result TEXT NOT NULL
) STRICT;
INSERT INTO audit_log_new (id, at, actor, action, target, params, result)
SELECT id, at, actor, action, target, params, result FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log (at);
