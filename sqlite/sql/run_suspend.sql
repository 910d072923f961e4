UPDATE runs SET
    status = 'waiting',
    lease_holder = NULL,
    lease_expires_at = NULL,
    available_at = ?4,
    updated_at = ?5
WHERE id = ?1 AND epoch = ?2 AND lease_holder = ?3 AND status = 'running'
RETURNING workflow;
