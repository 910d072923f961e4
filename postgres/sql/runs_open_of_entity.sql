-- The entities test repeats runs_entities' predicate so that the GIN index
-- answers it.
SELECT id FROM runs
WHERE entities @> jsonb_build_object($1::text, $2::text) AND entities <> '{}'
  AND status IN ('pending', 'running', 'retrying', 'waiting')
ORDER BY id;
