SELECT id, check_value, retired_at IS NOT NULL AS retired FROM encryption_keys ORDER BY id;
