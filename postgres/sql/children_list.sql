-- A run's children, in the order its steps started them, each with how many
-- children it started itself (run_children_parent answers the count).
SELECT c.child_id, c.parent_id, c.parent_seq, c.created_at, r.workflow, r.status,
       (SELECT count(*) FROM run_children g WHERE g.parent_id = c.child_id) AS child_count
FROM run_children c JOIN runs r ON r.id = c.child_id
WHERE c.parent_id = $1
ORDER BY c.parent_seq, c.child_id;
