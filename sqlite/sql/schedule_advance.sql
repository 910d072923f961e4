-- Compare and set: only the process that read the current next tick moves
-- it, so a tick is decided once however many processes fire it. A schedule
-- paused while a process fired it still records the tick whose run exists.
UPDATE schedules SET next_tick = ?3, last_tick = ?4
WHERE name = ?1 AND next_tick = ?2;
