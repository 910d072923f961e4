INSERT INTO waits (run_id, seq, name, step_key, kind, state, started_at, deadline, schema, request, child_run_id)
VALUES (?1, ?2, ?3, ?4, ?5, 'waiting', ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (run_id, seq) DO NOTHING;
