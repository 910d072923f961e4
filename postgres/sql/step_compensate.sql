UPDATE steps SET
    status = $3,
    compensated_at = $4,
    compensation_error = $5
WHERE run_id = $1 AND seq = $2 AND status = 'completed'
RETURNING name;
