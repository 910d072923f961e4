-- Resuming a paused schedule moves it to its next tick after now: the ticks
-- while it was paused are not fired. Resuming one that runs changes nothing.
UPDATE schedules SET
    next_tick = CASE WHEN paused = 1 AND ?2 = 0 THEN ?3 ELSE next_tick END,
    updated_at = CASE WHEN paused <> ?2 THEN ?4 ELSE updated_at END,
    paused = ?2
WHERE name = ?1;
