SELECT id, payload FROM signals WHERE run_id > $1 AND run_id <= $2 AND substring(payload from 1 for $4) <> $3;
