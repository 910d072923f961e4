-- Gives a slot of concurrency key $1 to its $2 oldest waiting runs, which
-- become available at once ($3).
UPDATE runs SET
    concurrency_slot = 'held',
    available_at = $3,
    updated_at = $3
WHERE id = ANY(ARRAY(
    SELECT id FROM runs
    WHERE concurrency_key = $1 AND concurrency_slot = 'waiting'
      AND status IN ('pending', 'running', 'retrying', 'waiting', 'compensating')
    ORDER BY id
    LIMIT $2
    FOR UPDATE))
RETURNING id, workflow;
