SELECT * FROM alerts WHERE id = ?1;
