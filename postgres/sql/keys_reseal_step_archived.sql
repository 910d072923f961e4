UPDATE steps_archive SET output = $4 WHERE run_id = $1 AND generation = $2 AND seq = $3 AND output = $5;
