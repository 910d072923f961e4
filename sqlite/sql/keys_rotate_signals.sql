SELECT id, payload FROM signals WHERE run_id > ?1 AND run_id <= ?2 AND substr(payload, 1, ?4) <> ?3;
