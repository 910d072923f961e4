-- Schedules: a cron expression that enqueues one run of a workflow per tick.
-- next_tick is the next tick to fire, computed by the process that fired the
-- previous one from the cron expression; every process reads it from here, so
-- no process's memory decides a tick. Times are microseconds since the epoch.
CREATE TABLE schedules (
    name       TEXT PRIMARY KEY,
    workflow   TEXT NOT NULL,
    cron       TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    input      BLOB NOT NULL,
    catch_up   TEXT NOT NULL CHECK (catch_up IN ('one', 'skip', 'all')),
    paused     INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    next_tick  INTEGER NOT NULL,
    last_tick  INTEGER,
    source     TEXT NOT NULL CHECK (source IN ('code', 'api')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX schedules_due ON schedules (next_tick) WHERE paused = 0;

-- A schedule's decisions, one per tick: started (with its run), skipped by
-- the catch-up policy, or failed (the reason says why). The latest few
-- hundred of each schedule are kept; deleting a schedule deletes them.
CREATE TABLE schedule_outcomes (
    schedule   TEXT NOT NULL,
    tick       INTEGER NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('started', 'skipped', 'failed')),
    run_id     TEXT,
    reason     TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    PRIMARY KEY (schedule, tick)
) STRICT;
