-- The claim indexes lead with the workflow: a claim walks each hosted
-- workflow's due runs on its own (runs_claim_available.go), so the runs of a
-- workflow it does not host, or whose breaker is open, are never walked.
-- Across workflows, a backlog of 10,000 runs due first made every claim walk
-- all of them.
DROP INDEX runs_claimable;
CREATE INDEX runs_claimable ON runs (workflow, available_at)
    WHERE status IN ('pending', 'retrying', 'waiting') AND priority = 0;
DROP INDEX runs_claimable_prioritized;
CREATE INDEX runs_claimable_prioritized ON runs (workflow, available_at - priority * 10000000)
    WHERE status IN ('pending', 'retrying', 'waiting') AND priority <> 0;
