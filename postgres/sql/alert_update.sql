-- The latest measurement of a firing alert; with $6 true also a repeat
-- notification, only if the alert recorded $7 notifications so far.
UPDATE alerts SET
    summary = $2,
    value = $3,
    threshold = $4,
    run_ids = $5::jsonb,
    notifications = notifications + CASE WHEN $6::boolean THEN 1 ELSE 0 END,
    last_notified_at = CASE WHEN $6::boolean THEN $8 ELSE last_notified_at END,
    updated_at = $8
WHERE id = $1 AND state = 'firing' AND (NOT $6::boolean OR notifications = $7)
RETURNING *;
