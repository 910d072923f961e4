-- Priorities: a run's priority, -100..100, orders claims by
-- available_at − priority × 10 s, so that a higher priority goes first and a
-- lower one ages rather than starves.
ALTER TABLE runs ADD COLUMN priority integer NOT NULL DEFAULT 0
    CHECK (priority BETWEEN -100 AND 100);

-- The aged claim time. timestamptz − interval is only stable in general
-- (an interval of days or months depends on the time zone), but an interval
-- of seconds is not: the function is immutable, so that an index can hold
-- it, and PostgreSQL does not inline it, so that queries match the index.
CREATE FUNCTION klaxon_claim_at(available_at timestamptz, priority integer) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT available_at - priority * interval '10 seconds' $$;

-- Runs of priority 0, nearly all of them, keep the claim index they had: a
-- claim walks each workflow's due ones in the order they became available
-- and stops at the first run not yet due. Prioritized runs have an index of
-- their own on the aged order, which a claim walks up to the latest aged time
-- a due run can have (now + 1000 s), merging the two walks; so a backlog of
-- runs of priority 0 costs a claim what it did before.
DROP INDEX runs_claimable;
CREATE INDEX runs_claimable ON runs (workflow, available_at)
    WHERE status IN ('pending', 'retrying', 'waiting') AND priority = 0;
CREATE INDEX runs_claimable_prioritized ON runs (workflow, klaxon_claim_at(available_at, priority))
    WHERE status IN ('pending', 'retrying', 'waiting') AND priority <> 0;
