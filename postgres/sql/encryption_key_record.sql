INSERT INTO encryption_keys (id, check_value, created_at) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET retired_at = NULL;
