UPDATE breakers SET state = 'closed', reset_at = $2, reset_by = $3
WHERE workflow = $1 AND state = 'open' AND until > $2;
