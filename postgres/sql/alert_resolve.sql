UPDATE alerts SET
    state = 'resolved',
    summary = coalesce($2, summary),
    resolved_at = $3,
    last_notified_at = $3,
    notifications = notifications + 1,
    updated_at = $3
WHERE id = $1 AND state = 'firing'
RETURNING *;
