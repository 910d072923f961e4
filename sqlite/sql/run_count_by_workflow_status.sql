-- Counts every run by status and workflow in one walk of runs_status, in
-- its order: one read for every workflow, not one per workflow.
SELECT workflow, status, count(*) FROM runs
GROUP BY status, workflow;
