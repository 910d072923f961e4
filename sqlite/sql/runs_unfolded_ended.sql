-- Up to ?1 ended runs whose totals are not folded yet: the next batch to fold.
SELECT id FROM runs INDEXED BY runs_unfolded
WHERE totals_folded = 0 AND finished_at IS NOT NULL AND status IN ('completed', 'dead', 'cancelled')
LIMIT ?1;
