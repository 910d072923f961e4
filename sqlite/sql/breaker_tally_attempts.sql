-- The attempts of workflow ?1 that ended at or after ?2, or after its breaker
-- last opened if later: the failed ones in the attempt history (not those
-- recorded for a worker whose lease ran out) and the runs that completed.
-- Both walk only the window: the attempts by attempts_at, each looking up its
-- run's workflow; the completions by runs_finished.
WITH since AS (
    SELECT max(?2, coalesce((SELECT opened_at FROM breakers WHERE workflow = ?1), 0)) AS at
)
SELECT
    (SELECT count(*) FROM attempts AS a INDEXED BY attempts_at
     WHERE a.at >= (SELECT at FROM since) AND a.classified_by <> 'lease'
       AND (SELECT r.workflow FROM runs AS r WHERE r.id = a.run_id) = ?1) AS failed,
    (SELECT count(*) FROM runs INDEXED BY runs_finished
     WHERE workflow = ?1 AND finished_at IS NOT NULL AND finished_at >= (SELECT at FROM since)
       AND status = 'completed') AS completed;
