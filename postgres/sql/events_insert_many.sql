-- Events of one type for several runs, in their order.
INSERT INTO events (run_id, type, actor, at, message)
SELECT run_id, $3, $4, $5, message
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS e(run_id, message, n)
ORDER BY n;
