-- Steps whose compensation ran: a replay that kept them would build on work
-- that was undone.
SELECT count(*) FROM steps WHERE run_id = $1 AND seq < $2 AND status <> 'completed';
