SELECT count(*) AS open FROM waits WHERE run_id = $1 AND kind = $2 AND state = 'waiting';
