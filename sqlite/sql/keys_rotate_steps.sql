SELECT run_id, seq, output FROM steps WHERE run_id > ?1 AND run_id <= ?2 AND substr(output, 1, ?4) <> ?3;
