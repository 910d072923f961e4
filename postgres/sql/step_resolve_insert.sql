-- A step already at the failed step's place is never overwritten.
INSERT INTO steps (run_id, seq, name, status, attempt, epoch, idempotency_key, output,
                   started_at, finished_at, resolved_by)
SELECT id, $2, $3, 'completed', attempt, epoch, $4, $5, $6, $6, $7
FROM runs WHERE id = $1
ON CONFLICT (run_id, seq) DO NOTHING;
