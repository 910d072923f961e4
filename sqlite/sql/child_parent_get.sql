-- A child's link to its parent, with the parent's workflow and status.
SELECT c.child_id, c.parent_id, c.parent_seq, c.created_at, r.workflow, r.status
FROM run_children c JOIN runs r ON r.id = c.parent_id
WHERE c.child_id = ?1;
