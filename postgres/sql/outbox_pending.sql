-- The pending notifications by channel and kind: how many, since when, how
-- often tried, and the error of the most recently queued one that failed.
SELECT channel, kind, count(*)::int AS pending, min(created_at) AS oldest,
       count(*) FILTER (WHERE attempts > 0)::int AS attempted, max(attempts) AS max_attempts,
       (array_agg(last_error ORDER BY id DESC) FILTER (WHERE last_error IS NOT NULL))[1] AS last_error
FROM outbox
WHERE state = 'pending'
GROUP BY channel, kind
ORDER BY channel, kind;
