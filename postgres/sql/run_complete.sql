-- One held run completed, for a rule's transaction (a child run's end).
UPDATE runs SET
    status = 'completed',
    output = $4,
    lease_holder = NULL,
    lease_expires_at = NULL,
    finished_at = $5,
    updated_at = $5
WHERE id = $1 AND epoch = $2 AND lease_holder = $3 AND status = 'running';
