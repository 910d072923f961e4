-- The nearest-rank percentile ?3 of the enqueue-to-end durations of each
-- workflow's runs that completed or went dead in [?1, ?2): the duration at
-- rank ceil(n * ?3 / 100).
WITH ended AS (
    SELECT workflow,
           finished_at - created_at AS duration,
           row_number() OVER (PARTITION BY workflow ORDER BY finished_at - created_at) AS rank,
           count(*) OVER (PARTITION BY workflow) AS runs
    FROM runs
    WHERE finished_at IS NOT NULL AND finished_at >= ?1 AND finished_at < ?2
      AND status IN ('completed', 'dead')
)
SELECT workflow, runs, duration FROM ended
WHERE rank = (runs * ?3 + 99) / 100
ORDER BY workflow;
