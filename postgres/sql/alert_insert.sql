-- A new firing alert, unless one of the same rule and key fires already.
INSERT INTO alerts (id, rule, kind, workflow, class, severity, state, summary, value, threshold,
                    run_ids, started_at, last_notified_at, notifications, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'firing', $7, $8, $9, $10::jsonb, $11, $11, 1, $11)
ON CONFLICT (rule, workflow, class) WHERE state = 'firing' DO NOTHING
RETURNING *;
