SELECT status, count(*) FROM runs
WHERE ($1 = '' OR workflow = $1)
GROUP BY status;
