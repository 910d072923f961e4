INSERT INTO audit_log (at, actor, action, target, params, result) VALUES ($1, $2, $3, $4, $5, $6);
