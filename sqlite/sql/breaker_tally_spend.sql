-- The spend of workflow ?1 recorded at or after ?2, or after its breaker last
-- opened if later: by its checkpointed steps and by its failed attempts. Each
-- walks only the window (steps_paid, attempts_at) and looks up the run's
-- workflow per row.
WITH since AS (
    SELECT max(?2, coalesce((SELECT opened_at FROM breakers WHERE workflow = ?1), 0)) AS at
)
SELECT coalesce(sum(cost_usd), 0) AS cost_usd, coalesce(max(cost_unknown), 0) AS cost_unknown
FROM (
    SELECT s.cost_usd, s.cost_unknown FROM steps AS s INDEXED BY steps_paid
    WHERE s.finished_at >= (SELECT at FROM since) AND (s.cost_usd > 0 OR s.cost_unknown = 1)
      AND (SELECT r.workflow FROM runs AS r WHERE r.id = s.run_id) = ?1
    UNION ALL
    SELECT a.cost_usd, a.cost_unknown FROM attempts AS a INDEXED BY attempts_at
    WHERE a.at >= (SELECT at FROM since)
      AND (SELECT r.workflow FROM runs AS r WHERE r.id = a.run_id) = ?1
);
