SELECT key, requests, tokens, per_ns, request_tat, token_tat, updated_at FROM rate_limits ORDER BY key;
