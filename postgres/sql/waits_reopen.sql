-- A replayed run begins afresh the waits that timed out, and those the
-- replay runs again.
DELETE FROM waits WHERE run_id = $1 AND (state = 'timed_out' OR seq >= $2);
