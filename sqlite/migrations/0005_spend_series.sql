-- The spend trend of a workflow reads its runs by the time they ended.
CREATE INDEX runs_finished ON runs (workflow, finished_at) WHERE finished_at IS NOT NULL;
