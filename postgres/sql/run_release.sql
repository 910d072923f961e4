-- A graceful release is not a failed attempt: the attempt count goes back. A
-- compensating run stays compensating with an expired lease and no holder, so
-- the next claim takes it over at once.
UPDATE runs SET
    status = CASE status WHEN 'compensating' THEN 'compensating' ELSE 'pending' END,
    lease_holder = NULL,
    lease_expires_at = CASE status WHEN 'compensating' THEN to_timestamp(0) ELSE NULL END,
    attempt = attempt - 1,
    available_at = $4,
    updated_at = $4
WHERE id = $1 AND epoch = $2 AND lease_holder = $3
  AND status IN ('running', 'compensating')
RETURNING workflow;
