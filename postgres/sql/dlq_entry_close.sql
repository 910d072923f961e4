UPDATE dlq_entries SET
    state = $2,
    closed_by = $3,
    closed_at = $4,
    close_reason = $5,
    replay_mode = $6,
    replay_run_id = $7,
    updated_at = $4
WHERE id = $1 AND state = 'open';
