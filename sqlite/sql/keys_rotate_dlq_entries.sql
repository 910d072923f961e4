SELECT id, input FROM dlq_entries WHERE run_id > ?1 AND run_id <= ?2 AND substr(input, 1, ?4) <> ?3;
