-- Schedules: a cron expression that enqueues one run of a workflow per tick.
-- next_tick is the next tick to fire, computed by the process that fired the
-- previous one from the cron expression; every process reads it from here, so
-- no process's memory decides a tick.
CREATE TABLE schedules (
    name       text PRIMARY KEY,
    workflow   text NOT NULL,
    cron       text NOT NULL,
    time_zone  text NOT NULL,
    input      bytea NOT NULL,
    catch_up   text NOT NULL CHECK (catch_up IN ('one', 'skip', 'all')),
    paused     boolean NOT NULL DEFAULT false,
    next_tick  timestamptz NOT NULL,
    last_tick  timestamptz,
    source     text NOT NULL CHECK (source IN ('code', 'api')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_tick) WHERE NOT paused;

-- A schedule's decisions, one per tick: started (with its run), skipped by
-- the catch-up policy, or failed (the reason says why). The latest few
-- hundred of each schedule are kept; deleting a schedule deletes them.
CREATE TABLE schedule_outcomes (
    schedule   text NOT NULL REFERENCES schedules (name) ON DELETE CASCADE,
    tick       timestamptz NOT NULL,
    decision   text NOT NULL CHECK (decision IN ('started', 'skipped', 'failed')),
    run_id     text,
    reason     text NOT NULL,
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (schedule, tick)
);
