-- A concurrency key's slots held by runs that have not ended, and the limit
-- its oldest waiting run was judged with (NULL when none waits).
SELECT
    (SELECT count(*) FROM runs
     WHERE concurrency_key = $1 AND concurrency_slot = 'held'
       AND status IN ('pending', 'running', 'retrying', 'waiting', 'compensating')) AS held,
    (SELECT concurrency_limit FROM runs
     WHERE concurrency_key = $1 AND concurrency_slot = 'waiting'
       AND status IN ('pending', 'running', 'retrying', 'waiting', 'compensating')
     ORDER BY id LIMIT 1) AS waiting_limit;
