SELECT e.run_id FROM run_entities e JOIN runs r ON r.id = e.run_id
WHERE e.key = ?1 AND e.value = ?2
  AND r.status IN ('pending', 'running', 'retrying', 'waiting')
ORDER BY e.run_id;
