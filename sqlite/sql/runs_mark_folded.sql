-- Marks folded the runs of ?1 that run_totals_fold.sql just added, with the
-- same conditions.
UPDATE runs SET totals_folded = 1
WHERE id IN (SELECT value FROM json_each(?1)) AND totals_folded = 0
  AND finished_at IS NOT NULL AND status IN ('completed', 'dead', 'cancelled');
