-- Keeps a schedule's $2 latest decisions.
DELETE FROM schedule_outcomes
WHERE schedule = $1 AND tick < (
    SELECT tick FROM schedule_outcomes WHERE schedule = $1 ORDER BY tick DESC LIMIT 1 OFFSET $2 - 1
);
