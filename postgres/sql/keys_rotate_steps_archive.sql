SELECT run_id, generation, seq, output FROM steps_archive WHERE run_id > $1 AND run_id <= $2 AND substring(output from 1 for $4) <> $3;
