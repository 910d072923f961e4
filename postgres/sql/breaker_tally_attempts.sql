-- The attempts of workflow $1 that ended at or after $2: the failed ones in
-- the attempt history (not those recorded for a worker whose lease ran out)
-- and the runs that completed. Both walk only the window: the attempts by
-- attempts_at, each looking up its run's workflow (a subquery, never a join
-- the planner could turn into a scan of every run of the workflow); the
-- completions by runs_finished, status being tested through an expression so
-- that the planner does not read every completed run of the workflow from
-- runs_status instead. $2 is a plain parameter, so that the planner estimates
-- the window from its value: a guess would make it cost the query as a large
-- one and compile it (JIT) on every read.
SELECT
    (SELECT count(*) FROM attempts AS a
     WHERE a.at >= $2 AND a.classified_by <> 'lease'
       AND (SELECT r.workflow FROM runs AS r WHERE r.id = a.run_id) = $1) AS failed,
    (SELECT count(*) FROM runs
     WHERE workflow = $1 AND finished_at IS NOT NULL AND finished_at >= $2
       AND (status = 'completed') IS TRUE) AS completed;
