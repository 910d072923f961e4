UPDATE signals SET payload = $2 WHERE id = $1 AND payload = $3;
