-- A dead run's entry copies what a person needs from the run as it died.
INSERT INTO dlq_entries (id, run_id, workflow, workflow_version, class, reason, step, step_seq,
                         output_schema, input, entities, channel, state, created_at, updated_at)
SELECT $1, id, workflow, workflow_version, failure_class, failure_reason, failed_step, failed_step_seq,
       $2, input, entities, $3, 'open', $4, $4
FROM runs WHERE id = $5;
