INSERT INTO workflows (name, version, expected_steps, input_schema, policies, registered_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (name) DO UPDATE SET
    version = excluded.version,
    expected_steps = excluded.expected_steps,
    input_schema = excluded.input_schema,
    policies = excluded.policies,
    updated_at = excluded.updated_at;
