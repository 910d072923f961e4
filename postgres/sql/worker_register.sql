INSERT INTO workers (id, language, sdk_version, runtime, workflows, registered_at, last_seen_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (id) DO UPDATE SET
    language = excluded.language,
    sdk_version = excluded.sdk_version,
    runtime = excluded.runtime,
    workflows = excluded.workflows,
    registered_at = excluded.registered_at,
    last_seen_at = excluded.last_seen_at;
