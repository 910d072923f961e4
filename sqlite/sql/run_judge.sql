-- Records the concurrency key a claimed run is judged under (?4, limit ?5)
-- and its slot (?6). A run that waits for a slot goes back to pending with
-- no lease and its attempt given back, available at ?8 (klaxontype.ParkedUntil),
-- where no claim looks; it never started when it had no attempt before.
UPDATE runs SET
    concurrency_key = ?4,
    concurrency_limit = ?5,
    concurrency_slot = ?6,
    status = CASE ?6 WHEN 'waiting' THEN 'pending' ELSE status END,
    lease_holder = CASE ?6 WHEN 'waiting' THEN NULL ELSE lease_holder END,
    lease_expires_at = CASE ?6 WHEN 'waiting' THEN NULL ELSE lease_expires_at END,
    started_at = CASE WHEN ?6 = 'waiting' AND attempt = 1 THEN NULL ELSE started_at END,
    attempt = attempt - (CASE ?6 WHEN 'waiting' THEN 1 ELSE 0 END),
    available_at = CASE ?6 WHEN 'waiting' THEN ?8 ELSE available_at END,
    updated_at = ?7
WHERE id = ?1 AND epoch = ?2 AND lease_holder = ?3 AND status = 'running'
RETURNING workflow;
