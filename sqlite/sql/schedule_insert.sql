INSERT INTO schedules (name, workflow, cron, time_zone, input, catch_up, source, next_tick, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
ON CONFLICT (name) DO NOTHING;
