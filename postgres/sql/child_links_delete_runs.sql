DELETE FROM run_children WHERE child_id = ANY($1::text[]) OR parent_id = ANY($1::text[]);
