-- Tripping an open breaker keeps when it opened and extends its cool-down.
UPDATE breakers SET
    reason = $2,
    until = greatest(until, $3),
    opened_by = $4
WHERE workflow = $1;
