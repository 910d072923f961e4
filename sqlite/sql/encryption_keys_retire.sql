UPDATE encryption_keys SET retired_at = ?2 WHERE id <> ?1 AND retired_at IS NULL RETURNING id;
