SELECT name, version, expected_steps, registered_at, updated_at
FROM workflows
ORDER BY name;
