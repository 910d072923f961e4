SELECT id, language, sdk_version, runtime, workflows, registered_at, last_seen_at
FROM workers
ORDER BY last_seen_at DESC, id
LIMIT ?1;
