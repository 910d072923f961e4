SELECT workflow, class, count(*) FROM dlq_entries INDEXED BY dlq_entries_created
WHERE created_at >= ?1 AND created_at < ?2
GROUP BY workflow, class
ORDER BY workflow, class;
