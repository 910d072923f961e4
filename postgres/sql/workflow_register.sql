INSERT INTO workflows (name, version, expected_steps, registered_at, updated_at)
VALUES ($1, $2, $3, $4, $4)
ON CONFLICT (name) DO UPDATE SET
    version = excluded.version,
    expected_steps = excluded.expected_steps,
    updated_at = excluded.updated_at;
