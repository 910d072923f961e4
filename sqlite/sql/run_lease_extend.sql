UPDATE runs SET lease_expires_at = ?4, updated_at = ?5
WHERE id = ?1 AND epoch = ?2 AND lease_holder = ?3
  AND status IN ('running', 'compensating');
