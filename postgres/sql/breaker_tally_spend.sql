-- The spend of workflow $1 recorded at or after $2: by its checkpointed steps
-- and by its failed attempts. Each walks only the window (steps_paid,
-- attempts_at) and looks up the run's workflow per row.
SELECT coalesce(sum(cost_usd), 0)::double precision AS cost_usd, coalesce(bool_or(cost_unknown), false) AS cost_unknown
FROM (
    SELECT s.cost_usd, s.cost_unknown FROM steps AS s
    WHERE s.finished_at >= $2 AND (s.cost_usd > 0 OR s.cost_unknown)
      AND (SELECT r.workflow FROM runs AS r WHERE r.id = s.run_id) = $1
    UNION ALL
    SELECT a.cost_usd, a.cost_unknown FROM attempts AS a
    WHERE a.at >= $2
      AND (SELECT r.workflow FROM runs AS r WHERE r.id = a.run_id) = $1
) AS spent;
