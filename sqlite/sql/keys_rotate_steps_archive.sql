SELECT run_id, generation, seq, output FROM steps_archive WHERE run_id > ?1 AND run_id <= ?2 AND substr(output, 1, ?4) <> ?3;
