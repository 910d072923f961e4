SELECT workflow, class, entries FROM dlq_counts_deleted
ORDER BY workflow, class;
