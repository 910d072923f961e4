-- The step manifest a workflow was last registered with; no row for a
-- workflow never registered.
SELECT expected_steps FROM workflows WHERE name = ?1;
