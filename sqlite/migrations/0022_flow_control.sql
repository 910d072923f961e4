-- Priorities: a run's priority, -100..100, orders claims by
-- available_at − priority × 10 s (times are Unix microseconds), so that a
-- higher priority goes first and a lower one ages rather than starves.
ALTER TABLE runs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0
    CHECK (priority BETWEEN -100 AND 100);

-- Runs of priority 0, nearly all of them, keep the claim index they had: a
-- claim walks the due ones in the order they became available and stops at
-- the first run not yet due. Prioritized runs have an index of their own on
-- the aged order, which a claim walks up to the latest aged time a due run
-- can have (now + 1000 s), merging the two walks; so a backlog of runs of
-- priority 0 costs a claim what it did before.
DROP INDEX runs_claimable;
CREATE INDEX runs_claimable ON runs (available_at)
    WHERE status IN ('pending', 'retrying', 'waiting') AND priority = 0;
CREATE INDEX runs_claimable_prioritized ON runs (available_at - priority * 10000000)
    WHERE status IN ('pending', 'retrying', 'waiting') AND priority <> 0;
