-- The step logs of the runs a claim took: those it leased until its own
-- expiry $2. LATERAL reads each run's log on the primary key.
SELECT s.* FROM runs r
CROSS JOIN LATERAL (SELECT * FROM steps WHERE run_id = r.id ORDER BY seq) s
WHERE r.lease_expires_at = $2 AND r.lease_holder = $1
ORDER BY s.run_id, s.seq;
