SELECT workflow, class, state, count(*) FROM dlq_entries
GROUP BY workflow, class, state
ORDER BY workflow, class, state;
