-- The Klaxon schema on PostgreSQL: the same records as the SQLite store's
-- migrations 1–6, in PostgreSQL's types. Times are timestamptz; inputs and
-- outputs are JSON kept byte for byte (bytea); entity labels are jsonb so
-- that filters are containment tests on a GIN index.

CREATE TABLE workflows (
    name           text PRIMARY KEY,
    version        integer NOT NULL,
    expected_steps jsonb NOT NULL DEFAULT '[]',
    -- The JSON Schema of the input type, kept as text so that it reads back
    -- byte for byte; NULL when the worker recorded none.
    input_schema   text,
    -- The policies as the worker registered them; NULL when it recorded none.
    policies       jsonb,
    registered_at  timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE runs (
    id               text PRIMARY KEY,
    workflow         text NOT NULL,
    workflow_version integer NOT NULL,
    status           text NOT NULL CHECK (status IN
        ('pending', 'running', 'retrying', 'completed', 'compensating', 'dead', 'cancelled')),
    input            bytea NOT NULL,
    output           bytea,
    idempotency_key  text,
    entities         jsonb NOT NULL DEFAULT '{}',
    attempt          integer NOT NULL DEFAULT 0,
    retries          integer NOT NULL DEFAULT 0,
    attempt_offset   integer NOT NULL DEFAULT 0,
    step_generation  integer NOT NULL DEFAULT 0,
    replay_of        text,
    epoch            bigint NOT NULL DEFAULT 0,
    lease_holder     text,
    lease_expires_at timestamptz,
    available_at     timestamptz NOT NULL,
    failure_class    text,
    failure_reason   text,
    failed_step      text,
    failed_step_seq  integer,
    input_tokens     bigint NOT NULL DEFAULT 0,
    output_tokens    bigint NOT NULL DEFAULT 0,
    cached_tokens    bigint NOT NULL DEFAULT 0,
    cost_usd         double precision NOT NULL DEFAULT 0,
    cost_unknown     boolean NOT NULL DEFAULT false,
    model_calls      integer NOT NULL DEFAULT 0,
    budget_tokens    bigint,
    budget_cost_usd  double precision,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    started_at       timestamptz,
    finished_at      timestamptz
);

CREATE UNIQUE INDEX runs_idempotency_key ON runs (workflow, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- A claim walks each workflow's claimable runs in the order they became
-- available: a top-N index scan per workflow, never a sort of the backlog.
CREATE INDEX runs_claimable ON runs (workflow, available_at)
    WHERE status IN ('pending', 'retrying');
-- The hot statements (checkpoints, completions, renewals) find runs by primary
-- key and test their status. No other index may match those tests, or the
-- planner, misled by a queue's ever-stale statistics, ANDs it with the
-- primary key and reads every running run: so the index of leases is partial
-- on the lease column, not on status, and status comes second in runs_status.
CREATE INDEX runs_leased ON runs (lease_expires_at)
    WHERE lease_expires_at IS NOT NULL;
CREATE INDEX runs_status ON runs (workflow, status);
CREATE INDEX runs_workflow ON runs (workflow, id);
-- Only runs with labels are in the GIN index: every claim and completion
-- writes a new version of the run row, and a GIN insert for each would cost
-- runs without labels (most of them) for nothing. Filters add the same
-- predicate so that the planner can use it.
CREATE INDEX runs_entities ON runs USING gin (entities jsonb_path_ops) WHERE entities <> '{}';
CREATE INDEX runs_finished ON runs (workflow, finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE steps (
    run_id             text NOT NULL,
    seq                integer NOT NULL,
    name               text NOT NULL,
    status             text NOT NULL CHECK (status IN ('completed', 'compensated', 'compensation_failed')),
    attempt            integer NOT NULL,
    epoch              bigint NOT NULL,
    idempotency_key    text NOT NULL,
    output             bytea NOT NULL,
    started_at         timestamptz NOT NULL,
    finished_at        timestamptz NOT NULL,
    compensated_at     timestamptz,
    compensation_error text,
    resolved_by        text,
    input_tokens       bigint NOT NULL DEFAULT 0,
    output_tokens      bigint NOT NULL DEFAULT 0,
    cached_tokens      bigint NOT NULL DEFAULT 0,
    cost_usd           double precision NOT NULL DEFAULT 0,
    cost_unknown       boolean NOT NULL DEFAULT false,
    model_calls        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, seq)
);

-- Steps a from-step replay discarded: kept, never overwritten.
CREATE TABLE steps_archive (
    run_id          text NOT NULL,
    generation      integer NOT NULL,
    seq             integer NOT NULL,
    name            text NOT NULL,
    status          text NOT NULL,
    attempt         integer NOT NULL,
    epoch           bigint NOT NULL,
    idempotency_key text NOT NULL,
    output          bytea NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    discarded_at    timestamptz NOT NULL,
    discarded_by    text NOT NULL,
    PRIMARY KEY (run_id, generation, seq)
);

-- The event log is read by run (events_run); its identity column orders it
-- and needs no index of its own, which would cost every event an insert.
CREATE TABLE events (
    id       bigint GENERATED ALWAYS AS IDENTITY,
    run_id   text NOT NULL,
    type     text NOT NULL,
    actor    text NOT NULL,
    at       timestamptz NOT NULL,
    step     text,
    step_seq integer,
    message  text,
    -- A terminal event's (run.completed, run.dead) completion record: the
    -- step manifest, attempts per step, spend and duration; NULL otherwise.
    record   jsonb
);

CREATE INDEX events_run ON events (run_id, id);
-- Suppressed duplicates are counted on every metrics scrape: a partial index
-- keeps that to the few rows it concerns.
CREATE INDEX events_duplicate_suppressed ON events (run_id) WHERE type = 'duplicate.suppressed';

CREATE TABLE attempts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id        text NOT NULL,
    attempt       integer NOT NULL,
    at            timestamptz NOT NULL,
    worker        text NOT NULL,
    step          text,
    step_seq      integer,
    class         text NOT NULL,
    message       text NOT NULL,
    classified_by text NOT NULL,
    duration_us   bigint NOT NULL,
    stack         text,
    input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cached_tokens bigint NOT NULL DEFAULT 0,
    cost_usd      double precision NOT NULL DEFAULT 0,
    cost_unknown  boolean NOT NULL DEFAULT false,
    model_calls   integer NOT NULL DEFAULT 0
);

CREATE INDEX attempts_run ON attempts (run_id, id);

CREATE TABLE dlq_entries (
    id               text PRIMARY KEY,
    run_id           text NOT NULL,
    workflow         text NOT NULL,
    workflow_version integer NOT NULL,
    class            text NOT NULL,
    reason           text NOT NULL,
    step             text,
    step_seq         integer,
    output_schema    text,
    input            bytea NOT NULL,
    entities         jsonb NOT NULL DEFAULT '{}',
    channel          text NOT NULL,
    state            text NOT NULL CHECK (state IN ('open', 'replayed', 'resolved', 'discarded')),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    closed_by        text,
    closed_at        timestamptz,
    close_reason     text,
    replay_mode      text,
    replay_run_id    text
);

-- A run has at most one open entry at a time.
CREATE UNIQUE INDEX dlq_entries_open_run ON dlq_entries (run_id) WHERE state = 'open';
CREATE INDEX dlq_entries_run ON dlq_entries (run_id);
CREATE INDEX dlq_entries_class ON dlq_entries (class, id);
CREATE INDEX dlq_entries_state ON dlq_entries (state, id);
CREATE INDEX dlq_entries_entities ON dlq_entries USING gin (entities jsonb_path_ops) WHERE entities <> '{}';

-- Notifications of dead-letter entries and of breakers that opened, delivered
-- by the dispatcher.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL DEFAULT 'dead_letter' CHECK (kind IN ('dead_letter', 'breaker')),
    entry_id        text NOT NULL,
    channel         text NOT NULL,
    state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'given_up')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    claimed_by      text,
    claimed_until   timestamptz,
    last_error      text,
    payload         text,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_entry ON outbox (entry_id);

CREATE TABLE dlq_purges (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor     text NOT NULL,
    at        timestamptz NOT NULL,
    filter    text NOT NULL,
    entries   integer NOT NULL,
    entry_ids text NOT NULL
);

-- While a breaker is open and its cool-down has not ended, the workflow's
-- pending and retrying runs are not claimed.
CREATE TABLE breakers (
    workflow  text PRIMARY KEY,
    state     text NOT NULL CHECK (state IN ('open', 'closed')),
    reason    text NOT NULL,
    opened_at timestamptz NOT NULL,
    until     timestamptz NOT NULL,
    opened_by text NOT NULL,
    reset_at  timestamptz,
    reset_by  text
);
