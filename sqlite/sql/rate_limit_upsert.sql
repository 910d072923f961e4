INSERT INTO rate_limits (key, requests, tokens, per_ns, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?5)
ON CONFLICT (key) DO UPDATE SET requests = excluded.requests, tokens = excluded.tokens,
    per_ns = excluded.per_ns, updated_at = excluded.updated_at;
