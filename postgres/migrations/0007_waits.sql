-- Durable waits: a run that sleeps, waits for a signal or for a person's
-- approval is 'waiting', holds no lease, and is claimable again once its
-- available_at (the earliest deadline of its open waits, or the moment a
-- signal satisfied one) has passed. The claim index holds waiting runs by the
-- time they become due, so that a claim walks only the due ones.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN
    ('pending', 'running', 'retrying', 'waiting', 'completed', 'compensating', 'dead', 'cancelled'));
DROP INDEX runs_claimable;
CREATE INDEX runs_claimable ON runs (workflow, available_at)
    WHERE status IN ('pending', 'retrying', 'waiting');

-- One row per wait a run began, by the step's sequence number: its kind, its
-- absolute deadline (never reset by a replay of the run), and how it ended.
-- The step log holds a satisfied wait's result; a wait that timed out has no
-- step, and its row says so on every later replay.
CREATE TABLE waits (
    run_id     text NOT NULL,
    seq        integer NOT NULL,
    name       text NOT NULL,
    -- The wait's step is recorded under this key, whoever ends the wait.
    step_key   text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('sleep', 'signal', 'approval')),
    state      text NOT NULL CHECK (state IN ('waiting', 'satisfied', 'timed_out')),
    started_at timestamptz NOT NULL,
    deadline   timestamptz NOT NULL,
    schema     bytea,
    request    text,
    ended_at   timestamptz,
    ended_by   text,
    PRIMARY KEY (run_id, seq)
);

-- The approvals inbox and the overdue-approval alert read open waits, oldest
-- first.
CREATE INDEX waits_open ON waits (kind, started_at) WHERE state = 'waiting';

-- Signals sent to runs: consumed by the wait of their name (consumed_seq), or
-- kept until the run's next wait of that name begins. A run keeps at most one
-- signal of a name unconsumed, and a key given by the sender makes a repeated
-- send (a retried webhook) answer with the first.
CREATE TABLE signals (
    id              bigserial PRIMARY KEY,
    run_id          text NOT NULL,
    name            text NOT NULL,
    payload         bytea NOT NULL,
    actor           text NOT NULL,
    idempotency_key text,
    sent_at         timestamptz NOT NULL,
    consumed_seq    integer,
    consumed_at     timestamptz
);
CREATE UNIQUE INDEX signals_unconsumed ON signals (run_id, name) WHERE consumed_seq IS NULL;
CREATE UNIQUE INDEX signals_key ON signals (run_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX signals_run ON signals (run_id, id);

-- Approval requests are notified through the outbox like dead letters.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('dead_letter', 'breaker', 'alert', 'approval'));

-- A person's decision on an approval, and a signal sent, are operator
-- actions: the audit log's action check gains them.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('dlq.replay', 'dlq.resolve',
    'dlq.discard', 'dlq.purge', 'run.cancel', 'breaker.reset', 'outbox.give_up', 'retention.delete',
    'approval.decide', 'signal.send'));
