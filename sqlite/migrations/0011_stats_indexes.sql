-- The stats series (GET /api/v1/stats, klaxon stats) reads a window of time of
-- every workflow or of one: each index leads with the time and carries every
-- column the series sums, so that a window of 100,000 runs is counted from
-- the indexes alone. created_at and a dead-letter entry never change; a run
-- enters runs_ended once, when it ends, so checkpoints do not touch it.
CREATE INDEX runs_created ON runs (created_at, workflow);
CREATE INDEX runs_ended ON runs (finished_at, workflow, status, retries, input_tokens, output_tokens, cost_usd, cost_unknown)
    WHERE finished_at IS NOT NULL;
CREATE INDEX dlq_entries_created ON dlq_entries (created_at, workflow, class);
