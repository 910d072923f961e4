-- Keeps every other judgement of a concurrency key waiting until the
-- transaction ends: a key has no row of its own to lock.
SELECT pg_advisory_xact_lock(hashtextextended('klaxon.concurrency:' || $1, 0));
