-- Takes a run's fencing lock (runs_fence.sql) exclusively until the
-- transaction ends, waiting for the checkpoints in flight to commit: a
-- checkpoint either lands before the transaction that takes it or sees its
-- outcome.
SELECT pg_advisory_xact_lock(1263488, hashtext($1));
