UPDATE steps SET output = ?3 WHERE run_id = ?1 AND seq = ?2 AND output = ?4;
