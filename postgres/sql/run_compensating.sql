UPDATE runs SET
    status = 'compensating',
    failure_class = $4,
    failure_reason = $5,
    failed_step = $6,
    failed_step_seq = $7,
    updated_at = $8
WHERE id = $1 AND epoch = $2 AND lease_holder = $3 AND status = 'running'
RETURNING workflow;
