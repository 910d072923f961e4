-- Renews the leases the holder still holds and returns the runs it renewed.
UPDATE runs r SET lease_expires_at = $4, updated_at = $5
FROM unnest($1::text[], $2::bigint[]) AS l(run_id, epoch)
WHERE r.id = l.run_id AND r.epoch = l.epoch AND r.lease_holder = $3
  AND r.status IN ('running', 'compensating')
RETURNING r.id;
