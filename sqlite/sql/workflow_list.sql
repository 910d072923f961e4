SELECT name, version, expected_steps, input_schema, policies, registered_at, updated_at
FROM workflows
ORDER BY name;
