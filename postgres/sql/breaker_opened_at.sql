-- When a workflow's breaker last opened; no row when it never tripped.
SELECT opened_at FROM breakers WHERE workflow = $1;
