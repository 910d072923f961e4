UPDATE waits SET state = $3, ended_by = $4, ended_at = $5
WHERE run_id = $1 AND seq = $2 AND state = 'waiting';
