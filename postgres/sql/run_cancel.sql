-- Cancels a run that has not ended and is not compensating: it ends at once,
-- with its lease cleared, so that every later write of its holder is refused.
UPDATE runs SET
    status = 'cancelled',
    failure_class = 'cancelled',
    failure_reason = $2,
    failed_step = NULL,
    failed_step_seq = NULL,
    lease_holder = NULL,
    lease_expires_at = NULL,
    finished_at = $3,
    updated_at = $3
WHERE id = $1 AND status IN ('pending', 'retrying', 'waiting', 'running')
RETURNING *;
