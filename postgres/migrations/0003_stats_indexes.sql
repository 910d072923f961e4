-- The stats series (GET /api/v1/stats, klaxon stats) reads a window of time of
-- every workflow or of one, so each of its parts needs an index that leads
-- with the time. They hold no other column of runs: a column that a hot
-- statement updates (spend, retries, status) in an index would cost those
-- updates their HOT path. created_at never changes, finished_at is set once
-- when the run ends (by an update that changes status, already indexed), and a
-- dead-letter entry's creation time and class never change.
CREATE INDEX runs_created ON runs (created_at);
CREATE INDEX runs_ended ON runs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX dlq_entries_created ON dlq_entries (created_at) INCLUDE (workflow, class);
