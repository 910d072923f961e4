-- Child runs: a run started by a step of another run. The link lives in a
-- table of its own, written in the child's enqueue transaction, so a retried
-- parent's step finds its child (by the enqueue idempotency key derived from
-- the parent's step) and a cancelled parent finds its open children.
CREATE TABLE run_children (
    child_id   text PRIMARY KEY,
    parent_id  text NOT NULL,
    -- The parent's step that started the child.
    parent_seq integer NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX run_children_parent ON run_children (parent_id, parent_seq);

-- A wait for a child run: the waits' kind check gains 'child', and a wait
-- names the child it awaits.
ALTER TABLE waits DROP CONSTRAINT waits_kind_check;
ALTER TABLE waits ADD CONSTRAINT waits_kind_check CHECK (kind IN ('sleep', 'signal', 'approval', 'child'));
ALTER TABLE waits ADD COLUMN child_run_id text;
-- A child's end finds the open wait of its parent that awaits it.
CREATE INDEX waits_child ON waits (child_run_id) WHERE child_run_id IS NOT NULL;
