SELECT id, input, output FROM runs WHERE id > ?1 ORDER BY id LIMIT ?2;
