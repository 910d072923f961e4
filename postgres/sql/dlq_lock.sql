-- Locks an entry until the transaction acting on it ends: of two actions on
-- one entry, the second waits, then reads the entry the first closed.
SELECT * FROM dlq_entries WHERE id = $1 FOR UPDATE;
