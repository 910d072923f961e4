SELECT runs.workflow, count(*) FROM events
JOIN runs ON runs.id = events.run_id
WHERE events.type = 'duplicate.suppressed'
GROUP BY runs.workflow
ORDER BY runs.workflow;
