-- A definition declared again with the same expression and zone keeps its
-- next tick: a worker restarting must not move the schedule.
INSERT INTO schedules (name, workflow, cron, time_zone, input, catch_up, source, next_tick, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
ON CONFLICT (name) DO UPDATE SET
    workflow = excluded.workflow,
    input = excluded.input,
    catch_up = excluded.catch_up,
    source = excluded.source,
    next_tick = CASE WHEN schedules.cron = excluded.cron AND schedules.time_zone = excluded.time_zone
        THEN schedules.next_tick ELSE excluded.next_tick END,
    cron = excluded.cron,
    time_zone = excluded.time_zone,
    updated_at = excluded.updated_at;
