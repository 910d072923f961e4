-- Locks a run's row until the transaction ends: a holder's completion or
-- failure either committed before (and the lock reads its outcome) or waits.
SELECT * FROM runs WHERE id = $1 FOR UPDATE;
