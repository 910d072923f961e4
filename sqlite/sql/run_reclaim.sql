UPDATE runs SET
    lease_holder = ?2,
    lease_expires_at = ?3,
    epoch = epoch + 1,
    attempt = attempt + 1,
    updated_at = ?4
WHERE id = ?1
RETURNING *;
