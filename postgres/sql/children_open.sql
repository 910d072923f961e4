SELECT c.child_id FROM run_children c JOIN runs r ON r.id = c.child_id
WHERE c.parent_id = $1 AND r.status IN ('pending', 'running', 'retrying', 'waiting')
ORDER BY c.parent_seq, c.child_id;
