-- Child runs: a run started by a step of another run. The link lives in a
-- table of its own, written in the child's enqueue transaction, so a retried
-- parent's step finds its child (by the enqueue idempotency key derived from
-- the parent's step) and a cancelled parent finds its open children.
CREATE TABLE run_children (
    child_id   TEXT PRIMARY KEY,
    parent_id  TEXT NOT NULL,
    -- The parent's step that started the child.
    parent_seq INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX run_children_parent ON run_children (parent_id, parent_seq);

-- A wait for a child run: the waits' kind check gains 'child', and a wait
-- names the child it awaits. SQLite can change a check only by building the
-- table again.
CREATE TABLE waits_new (
    run_id       TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    name         TEXT NOT NULL,
    step_key     TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('sleep', 'signal', 'approval', 'child')),
    state        TEXT NOT NULL CHECK (state IN ('waiting', 'satisfied', 'timed_out')),
    started_at   INTEGER NOT NULL,
    deadline     INTEGER NOT NULL,
    schema       BLOB,
    request      TEXT,
    ended_at     INTEGER,
    ended_by     TEXT,
    child_run_id TEXT,
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO waits_new (run_id, seq, name, step_key, kind, state, started_at, deadline, schema, request, ended_at, ended_by)
SELECT run_id, seq, name, step_key, kind, state, started_at, deadline, schema, request, ended_at, ended_by FROM waits;
DROP TABLE waits;
ALTER TABLE waits_new RENAME TO waits;
CREATE INDEX waits_open ON waits (kind, started_at) WHERE state = 'waiting';
-- A child's end finds the open wait of its parent that awaits it.
CREATE INDEX waits_child ON waits (child_run_id) WHERE child_run_id IS NOT NULL;
