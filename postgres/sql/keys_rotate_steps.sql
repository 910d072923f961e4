SELECT run_id, seq, output FROM steps WHERE run_id > $1 AND run_id <= $2 AND substring(output from 1 for $4) <> $3;
