SELECT name, workflow, cron, time_zone, input, catch_up, paused, next_tick, last_tick, source, created_at, updated_at
FROM schedules
WHERE name = $1;
