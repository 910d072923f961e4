UPDATE rate_limits SET request_tat = ?2, token_tat = ?3 WHERE key = ?1;
