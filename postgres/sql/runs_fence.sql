-- Takes the fencing lock of each run in shared mode until the transaction
-- ends: writes of the holder share it, a reclaim takes it exclusively
-- (runs_reclaim_expired.sql) and skips a run whose lock is taken. It is an
-- advisory lock, in memory: a row lock (FOR SHARE) would write every locked
-- row to the WAL, which cost a third of the checkpoint throughput.
SELECT count(pg_advisory_xact_lock_shared(1263488, hashtext(id)))
FROM (SELECT DISTINCT id FROM unnest($1::text[]) AS id ORDER BY id) ids;
