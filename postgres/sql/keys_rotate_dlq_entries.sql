SELECT id, input FROM dlq_entries WHERE run_id > $1 AND run_id <= $2 AND substring(input from 1 for $4) <> $3;
