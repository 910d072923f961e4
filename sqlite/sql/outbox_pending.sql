-- The pending notifications by channel and kind: how many, since when, how
-- often tried, and the error of the most recently queued one that failed.
SELECT channel, kind, count(*) AS pending, min(created_at) AS oldest,
       sum(attempts > 0) AS attempted, max(attempts) AS max_attempts,
       (SELECT o.last_error FROM outbox AS o
        WHERE o.state = 'pending' AND o.channel = p.channel AND o.kind = p.kind AND o.last_error IS NOT NULL
        ORDER BY o.id DESC LIMIT 1) AS last_error
FROM outbox AS p
WHERE state = 'pending'
GROUP BY channel, kind
ORDER BY channel, kind;
