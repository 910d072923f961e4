-- Workflow breakers: while one is open and its cool-down has not ended, the
-- workflow's pending and retrying runs are not claimed.
CREATE TABLE breakers (
    workflow  TEXT PRIMARY KEY,
    state     TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    reason    TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    until     INTEGER NOT NULL,
    opened_by TEXT NOT NULL,
    reset_at  INTEGER,
    reset_by  TEXT
) STRICT;
