SELECT name, workflow, cron, time_zone, input, catch_up, paused, next_tick, last_tick, source, created_at, updated_at
FROM schedules
WHERE paused = 0 AND next_tick <= ?1
ORDER BY next_tick, name
LIMIT ?2;
