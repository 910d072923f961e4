INSERT INTO run_children (child_id, parent_id, parent_seq, created_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (child_id) DO NOTHING;
