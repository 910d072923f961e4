-- The spend of workflow $1 recorded at or after $2, or after its breaker last
-- opened if later: by its checkpointed steps and by its failed attempts.
WITH since AS (
    SELECT greatest($2::timestamptz, (SELECT opened_at FROM breakers WHERE workflow = $1)) AS at
)
SELECT coalesce(sum(cost_usd), 0)::double precision AS cost_usd, coalesce(bool_or(cost_unknown), false) AS cost_unknown
FROM (
    SELECT s.cost_usd, s.cost_unknown FROM steps AS s JOIN runs AS r ON r.id = s.run_id
    WHERE s.finished_at >= (SELECT at FROM since) AND (s.cost_usd > 0 OR s.cost_unknown) AND r.workflow = $1
    UNION ALL
    SELECT a.cost_usd, a.cost_unknown FROM attempts AS a JOIN runs AS r ON r.id = a.run_id
    WHERE a.at >= (SELECT at FROM since) AND r.workflow = $1
) AS spent;
