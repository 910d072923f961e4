-- Claims pending, retrying and due waiting runs in the order of
-- available_at − priority × 10 s (klaxon_claim_at), skipping rows other
-- workers are claiming and workflows whose breaker is open, up to the limit
-- less the runs this claim reclaimed (its lease expiry $2 is its own), and
-- records their run.claimed events.
-- Each workflow's first runs come from two top-N index scans: runs of
-- priority 0 from runs_claimable in the order they became available, up to
-- now; prioritized runs from runs_claimable_prioritized in their aged order,
-- up to the latest aged time a due run can have (now + 100 × 10 s). (A scan
-- for all workflows at once made PostgreSQL sort the whole backlog on every
-- claim.) The first of all those are claimed, and = ANY(ARRAY(…)) keeps the
-- update on the primary key. Candidates locked but not claimed are released
-- when the claim commits.
WITH quota AS (
    SELECT greatest($5 - (SELECT count(*) FROM runs WHERE lease_expires_at = $2 AND lease_holder = $1), 0) AS n
),
candidates AS (
    SELECT c.id, c.claim_at
    FROM unnest($4::text[]) AS w(name)
    CROSS JOIN LATERAL (
        SELECT id, available_at AS claim_at FROM runs
        WHERE workflow = w.name
          AND status IN ('pending', 'retrying', 'waiting')
          AND priority = 0
          AND available_at <= $3
        ORDER BY available_at
        LIMIT (SELECT n FROM quota)
        FOR UPDATE SKIP LOCKED) c
    WHERE w.name NOT IN (SELECT workflow FROM breakers WHERE state = 'open' AND until > $3)
    UNION ALL
    SELECT c.id, c.claim_at
    FROM unnest($4::text[]) AS w(name)
    CROSS JOIN LATERAL (
        SELECT id, klaxon_claim_at(available_at, priority) AS claim_at FROM runs
        WHERE workflow = w.name
          AND status IN ('pending', 'retrying', 'waiting')
          AND priority <> 0
          AND klaxon_claim_at(available_at, priority) <= $3 + interval '1000 seconds'
          AND available_at <= $3
        ORDER BY klaxon_claim_at(available_at, priority)
        LIMIT (SELECT n FROM quota)
        FOR UPDATE SKIP LOCKED) c
    WHERE w.name NOT IN (SELECT workflow FROM breakers WHERE state = 'open' AND until > $3)
),
claimed AS (
    UPDATE runs SET
        status = 'running',
        lease_holder = $1,
        lease_expires_at = $2,
        epoch = epoch + 1,
        -- A waiting run resumes the attempt that reached its wait.
        attempt = attempt + (CASE WHEN status = 'waiting' THEN 0 ELSE 1 END),
        started_at = coalesce(started_at, $3),
        updated_at = $3
    WHERE id = ANY(ARRAY(
        SELECT id FROM candidates
        ORDER BY claim_at
        LIMIT (SELECT n FROM quota)))
    RETURNING *
),
events AS (
    INSERT INTO events (run_id, type, actor, at, message)
    SELECT id, 'run.claimed', $1, $3, 'attempt ' || attempt || ', epoch ' || epoch
    FROM claimed ORDER BY klaxon_claim_at(available_at, priority), id
)
SELECT * FROM claimed ORDER BY klaxon_claim_at(available_at, priority), id;
