package sqlite

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

func scanRun(stmt *sqlite.Stmt, keys *store.Keyring) (*klaxontype.Run, error) {
	input, err := openColumn(stmt, "input", keys)
	if err != nil {
		return nil, err
	}
	output, err := openColumn(stmt, "output", keys)
	if err != nil {
		return nil, err
	}
	run := &klaxontype.Run{
		ID:              stmt.GetText("id"),
		Workflow:        stmt.GetText("workflow"),
		WorkflowVersion: int(stmt.GetInt64("workflow_version")),
		Status:          klaxontype.RunStatus(stmt.GetText("status")),
		Input:           input,
		Output:          output,
		IdempotencyKey:  stmt.GetText("idempotency_key"),
		Attempt:         int(stmt.GetInt64("attempt")),
		Retries:         int(stmt.GetInt64("retries")),
		AttemptOffset:   int(stmt.GetInt64("attempt_offset")),
		StepGeneration:  int(stmt.GetInt64("step_generation")),
		ReplayOf:        stmt.GetText("replay_of"),
		Epoch:           stmt.GetInt64("epoch"),
		Priority:        int(stmt.GetInt64("priority")),
		ConcurrencyKey:  stmt.GetText("concurrency_key"),
		ConcurrencySlot: klaxontype.ConcurrencySlot(stmt.GetText("concurrency_slot")),
		LeaseHolder:     stmt.GetText("lease_holder"),
		LeaseExpiresAt:  columnTime(stmt, "lease_expires_at"),
		AvailableAt:     columnTime(stmt, "available_at"),
		CreatedAt:       columnTime(stmt, "created_at"),
		UpdatedAt:       columnTime(stmt, "updated_at"),
		StartedAt:       columnTime(stmt, "started_at"),
		FinishedAt:      columnTime(stmt, "finished_at"),
	}
	run.Spend = scanSpend(stmt)
	if !stmt.IsNull("budget_tokens") || !stmt.IsNull("budget_cost_usd") {
		run.Budget = &klaxontype.Budget{Tokens: stmt.GetInt64("budget_tokens"), CostUSD: stmt.GetFloat("budget_cost_usd")}
	}
	if entities := stmt.GetText("entities"); entities != "" && entities != "{}" {
		if err := json.Unmarshal([]byte(entities), &run.Entities); err != nil {
			return nil, err
		}
	}
	if !stmt.IsNull("failure_class") {
		run.Failure = &klaxontype.RunFailure{
			Class:   klaxontype.FailureClass(stmt.GetText("failure_class")),
			Reason:  stmt.GetText("failure_reason"),
			Step:    stmt.GetText("failed_step"),
			StepSeq: int(stmt.GetInt64("failed_step_seq")),
		}
	}
	return run, nil
}

func scanStep(stmt *sqlite.Stmt, keys *store.Keyring) (*klaxontype.StepRecord, error) {
	output, err := openColumn(stmt, "output", keys)
	if err != nil {
		return nil, err
	}
	return &klaxontype.StepRecord{
		RunID:             stmt.GetText("run_id"),
		Seq:               int(stmt.GetInt64("seq")),
		Name:              stmt.GetText("name"),
		Status:            klaxontype.StepStatus(stmt.GetText("status")),
		Attempt:           int(stmt.GetInt64("attempt")),
		Epoch:             stmt.GetInt64("epoch"),
		IdempotencyKey:    stmt.GetText("idempotency_key"),
		Output:            output,
		StartedAt:         columnTime(stmt, "started_at"),
		FinishedAt:        columnTime(stmt, "finished_at"),
		CompensatedAt:     columnTime(stmt, "compensated_at"),
		CompensationError: stmt.GetText("compensation_error"),
		ResolvedBy:        stmt.GetText("resolved_by"),
		Spend:             scanSpend(stmt),
		RateLimitWait:     time.Duration(stmt.GetInt64("rate_limit_wait_ns")),
	}, nil
}

func scanEvent(stmt *sqlite.Stmt) (*klaxontype.Event, error) {
	event := &klaxontype.Event{
		ID:      stmt.GetInt64("id"),
		RunID:   stmt.GetText("run_id"),
		Type:    klaxontype.EventType(stmt.GetText("type")),
		Actor:   stmt.GetText("actor"),
		At:      columnTime(stmt, "at"),
		Step:    stmt.GetText("step"),
		StepSeq: int(stmt.GetInt64("step_seq")),
		Message: stmt.GetText("message"),
	}
	if record := stmt.GetText("record"); record != "" {
		event.Record = new(klaxontype.CompletionRecord)
		if err := json.Unmarshal([]byte(record), event.Record); err != nil {
			return nil, fmt.Errorf("sqlite: the completion record of event %d: %w", event.ID, err)
		}
	}
	return event, nil
}

func scanAttempt(stmt *sqlite.Stmt) *klaxontype.Attempt {
	return &klaxontype.Attempt{
		RunID:        stmt.GetText("run_id"),
		Attempt:      int(stmt.GetInt64("attempt")),
		At:           columnTime(stmt, "at"),
		Worker:       stmt.GetText("worker"),
		Step:         stmt.GetText("step"),
		StepSeq:      int(stmt.GetInt64("step_seq")),
		Class:        klaxontype.FailureClass(stmt.GetText("class")),
		Message:      stmt.GetText("message"),
		ClassifiedBy: stmt.GetText("classified_by"),
		Duration:     time.Duration(stmt.GetInt64("duration_us")) * time.Microsecond,
		Stack:        stmt.GetText("stack"),
		Spend:        scanSpend(stmt),
	}
}

// scanSpend reads the spend columns that runs, steps and attempts share.
func scanSpend(stmt *sqlite.Stmt) klaxontype.Spend {
	spend := klaxontype.Spend{
		Usage: klaxontype.TokenUsage{
			InputTokens:  stmt.GetInt64("input_tokens"),
			OutputTokens: stmt.GetInt64("output_tokens"),
			CachedTokens: stmt.GetInt64("cached_tokens"),
		},
		Cost:       klaxontype.KnownCost(stmt.GetFloat("cost_usd")),
		ModelCalls: int(stmt.GetInt64("model_calls")),
	}
	if stmt.GetInt64("cost_unknown") != 0 {
		spend.Cost = klaxontype.UnknownCost()
	}
	return spend
}

// spendArgs binds a spend in the column order of the spend columns.
func spendArgs(s klaxontype.Spend) []any {
	return []any{s.Usage.InputTokens, s.Usage.OutputTokens, s.Usage.CachedTokens, s.Cost.USD, s.Cost.Unknown, s.ModelCalls}
}

// addSpend adds spend to a run's totals inside the writer's transaction.
func addSpend(conn *sqlite.Conn, runID string, s klaxontype.Spend) error {
	if s.IsZero() {
		return nil
	}
	return execute(conn, runAddSpendSQL, nil, append([]any{runID}, spendArgs(s)...)...)
}

func scanDeadLetter(stmt *sqlite.Stmt, keys *store.Keyring) (*klaxontype.DeadLetter, error) {
	input, err := openColumn(stmt, "input", keys)
	if err != nil {
		return nil, err
	}
	entry := &klaxontype.DeadLetter{
		ID:              stmt.GetText("id"),
		RunID:           stmt.GetText("run_id"),
		Workflow:        stmt.GetText("workflow"),
		WorkflowVersion: int(stmt.GetInt64("workflow_version")),
		Class:           klaxontype.FailureClass(stmt.GetText("class")),
		Reason:          stmt.GetText("reason"),
		Input:           input,
		Channel:         stmt.GetText("channel"),
		State:           klaxontype.DeadLetterState(stmt.GetText("state")),
		CreatedAt:       columnTime(stmt, "created_at"),
		UpdatedAt:       columnTime(stmt, "updated_at"),
		ClosedBy:        stmt.GetText("closed_by"),
		ClosedAt:        columnTime(stmt, "closed_at"),
		CloseReason:     stmt.GetText("close_reason"),
		ReplayMode:      klaxontype.ReplayMode(stmt.GetText("replay_mode")),
		ReplayRunID:     stmt.GetText("replay_run_id"),
		Entities:        map[string]string{},
		Attempts:        []*klaxontype.Attempt{},
	}
	if !stmt.IsNull("step") {
		entry.Step = &klaxontype.FailedStep{Name: stmt.GetText("step"), Seq: int(stmt.GetInt64("step_seq"))}
	}
	if schema := stmt.GetText("output_schema"); schema != "" {
		entry.OutputSchema = json.RawMessage(schema)
	}
	if err := json.Unmarshal([]byte(stmt.GetText("entities")), &entry.Entities); err != nil {
		return nil, err
	}
	return entry, nil
}

func scanDelivery(stmt *sqlite.Stmt) *klaxontype.Delivery {
	return &klaxontype.Delivery{
		ID:            stmt.GetInt64("id"),
		EntryID:       stmt.GetText("entry_id"),
		Channel:       stmt.GetText("channel"),
		State:         klaxontype.DeliveryState(stmt.GetText("state")),
		Attempts:      int(stmt.GetInt64("attempts")),
		NextAttemptAt: columnTime(stmt, "next_attempt_at"),
		LastError:     stmt.GetText("last_error"),
		CreatedAt:     columnTime(stmt, "created_at"),
		DeliveredAt:   columnTime(stmt, "delivered_at"),
	}
}
