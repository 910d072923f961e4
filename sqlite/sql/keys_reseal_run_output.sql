UPDATE runs SET output = ?2 WHERE id = ?1 AND output = ?3;
