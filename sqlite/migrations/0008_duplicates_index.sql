-- Suppressed duplicates are counted on every metrics scrape: a partial index
-- keeps that to the few rows it concerns.
CREATE INDEX events_duplicate_suppressed ON events (run_id) WHERE type = 'duplicate.suppressed';
