-- The nearest-rank percentile $3 of the enqueue-to-end durations (in
-- microseconds) of each workflow's runs that completed or went dead in
-- [$1, $2): the duration at rank ceil(n * $3 / 100).
WITH ended AS (
    SELECT workflow,
           (extract(epoch FROM finished_at - created_at) * 1000000)::bigint AS duration,
           row_number() OVER (PARTITION BY workflow ORDER BY finished_at - created_at) AS rank,
           count(*) OVER (PARTITION BY workflow) AS runs
    FROM runs
    WHERE finished_at IS NOT NULL AND finished_at >= $1 AND finished_at < $2
      AND status IN ('completed', 'dead')
)
SELECT workflow, runs, duration FROM ended
WHERE rank = (runs * $3::bigint + 99) / 100
ORDER BY workflow;
