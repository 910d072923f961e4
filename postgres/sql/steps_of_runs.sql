-- The step logs of claimed runs. LATERAL looks each run up on the primary
-- key; with run_id = ANY(...) the planner may scan the whole step log and
-- compare every row with every ID.
SELECT s.* FROM unnest($1::text[]) AS r(id)
CROSS JOIN LATERAL (SELECT * FROM steps WHERE run_id = r.id ORDER BY seq) s
ORDER BY s.run_id, s.seq;
