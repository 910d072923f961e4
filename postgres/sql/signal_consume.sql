UPDATE signals SET consumed_seq = $2, consumed_at = $3 WHERE id = $1 AND consumed_seq IS NULL;
