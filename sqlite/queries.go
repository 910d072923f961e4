package sqlite

// The store's statements, one file each under sql/. zombiezen caches a
// prepared statement per query text, so each is compiled once per connection.

import _ "embed"

var (
	//go:embed sql/attempt_insert.sql
	attemptInsertSQL string
	//go:embed sql/attempt_list.sql
	attemptListSQL string
	//go:embed sql/event_insert.sql
	eventInsertSQL string
	//go:embed sql/event_list.sql
	eventListSQL string
	//go:embed sql/migration_record.sql
	migrationRecordSQL string
	//go:embed sql/migrations_table_create.sql
	migrationsTableCreateSQL string
	//go:embed sql/run_compensating.sql
	runCompensatingSQL string
	//go:embed sql/run_complete.sql
	runCompleteSQL string
	//go:embed sql/run_count_by_status.sql
	runCountByStatusSQL string
	//go:embed sql/run_dead.sql
	runDeadSQL string
	//go:embed sql/run_entity_insert.sql
	runEntityInsertSQL string
	//go:embed sql/run_get.sql
	runGetSQL string
	//go:embed sql/run_get_by_idempotency_key.sql
	runGetByIdempotencyKeySQL string
	//go:embed sql/run_insert.sql
	runInsertSQL string
	//go:embed sql/run_lease_extend.sql
	runLeaseExtendSQL string
	//go:embed sql/run_lease_get.sql
	runLeaseGetSQL string
	//go:embed sql/run_list.sql
	runListSQL string
	//go:embed sql/run_reclaim.sql
	runReclaimSQL string
	//go:embed sql/run_release.sql
	runReleaseSQL string
	//go:embed sql/run_retry.sql
	runRetrySQL string
	//go:embed sql/runs_claim_available.sql
	runsClaimAvailableSQL string
	//go:embed sql/runs_select_expired.sql
	runsSelectExpiredSQL string
	//go:embed sql/schema_tables.sql
	schemaTablesSQL string
	//go:embed sql/schema_version.sql
	schemaVersionSQL string
	//go:embed sql/step_compensate.sql
	stepCompensateSQL string
	//go:embed sql/step_insert.sql
	stepInsertSQL string
	//go:embed sql/step_list.sql
	stepListSQL string
	//go:embed sql/steps_of_runs.sql
	stepsOfRunsSQL string
	//go:embed sql/workflow_list.sql
	workflowListSQL string
	//go:embed sql/workflow_register.sql
	workflowRegisterSQL string
)
