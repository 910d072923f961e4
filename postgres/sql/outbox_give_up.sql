-- Gives up the pending notifications of channel $1 that no deliverer holds at
-- $2 (a held one is left to its holder, whose settle would otherwise be
-- refused), with the actor and reason ($3) as their last error.
UPDATE outbox SET state = 'given_up', last_error = $3, claimed_by = NULL, claimed_until = NULL
WHERE channel = $1 AND state = 'pending'
  AND (claimed_until IS NULL OR claimed_until < $2);
