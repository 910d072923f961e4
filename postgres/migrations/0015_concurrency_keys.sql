-- Concurrency keys: the key a worker judged a run under, the limit it was
-- judged with, and whether it holds one of the key's slots or waits in
-- pending for one. A waiting run is available at year 9999, past where any
-- claim looks, so claims never walk the runs that wait.
ALTER TABLE runs ADD COLUMN concurrency_key text;
ALTER TABLE runs ADD COLUMN concurrency_limit integer;
ALTER TABLE runs ADD COLUMN concurrency_slot text
    CHECK (concurrency_slot IN ('held', 'waiting'));

-- A key's runs that have not ended: the slots held are counted on it, and
-- the oldest waiting runs found on it. A run leaves it when it ends, so
-- a key's count never reads its finished runs.
CREATE INDEX runs_concurrency ON runs (concurrency_key, concurrency_slot, id)
    WHERE concurrency_key IS NOT NULL
      AND status IN ('pending', 'running', 'retrying', 'waiting', 'compensating');
