package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// The row types mirror the tables column for column, so that SELECT * and
// RETURNING * scan by name (pgx.RowToStructByName) whatever the column order.

// spendColumns are the spend columns runs, steps and attempts share.
type spendColumns struct {
	InputTokens  int64   `db:"input_tokens"`
	OutputTokens int64   `db:"output_tokens"`
	CachedTokens int64   `db:"cached_tokens"`
	CostUSD      float64 `db:"cost_usd"`
	CostUnknown  bool    `db:"cost_unknown"`
	ModelCalls   int     `db:"model_calls"`
}

func (c spendColumns) spend() klaxontype.Spend {
	spend := klaxontype.Spend{
		Usage:      klaxontype.TokenUsage{InputTokens: c.InputTokens, OutputTokens: c.OutputTokens, CachedTokens: c.CachedTokens},
		Cost:       klaxontype.KnownCost(c.CostUSD),
		ModelCalls: c.ModelCalls,
	}
	if c.CostUnknown {
		spend.Cost = klaxontype.UnknownCost()
	}
	return spend
}

// spendArgs binds a spend in the order of the spend columns.
func spendArgs(s klaxontype.Spend) []any {
	return []any{s.Usage.InputTokens, s.Usage.OutputTokens, s.Usage.CachedTokens, s.Cost.USD, s.Cost.Unknown, s.ModelCalls}
}

type runRow struct {
	ID               string            `db:"id"`
	Workflow         string            `db:"workflow"`
	WorkflowVersion  int               `db:"workflow_version"`
	Status           string            `db:"status"`
	Input            []byte            `db:"input"`
	Output           []byte            `db:"output"`
	IdempotencyKey   *string           `db:"idempotency_key"`
	Entities         map[string]string `db:"entities"`
	Attempt          int               `db:"attempt"`
	Retries          int               `db:"retries"`
	AttemptOffset    int               `db:"attempt_offset"`
	StepGeneration   int               `db:"step_generation"`
	ReplayOf         *string           `db:"replay_of"`
	Epoch            int64             `db:"epoch"`
	Priority         int               `db:"priority"`
	ConcurrencyKey   *string           `db:"concurrency_key"`
	ConcurrencyLimit *int              `db:"concurrency_limit"`
	ConcurrencySlot  *string           `db:"concurrency_slot"`
	LeaseHolder      *string           `db:"lease_holder"`
	LeaseExpiresAt   *time.Time        `db:"lease_expires_at"`
	AvailableAt      time.Time         `db:"available_at"`
	FailureClass     *string           `db:"failure_class"`
	FailureReason    *string           `db:"failure_reason"`
	FailedStep       *string           `db:"failed_step"`
	FailedStepSeq    *int              `db:"failed_step_seq"`
	spendColumns
	BudgetTokens  *int64     `db:"budget_tokens"`
	BudgetCostUSD *float64   `db:"budget_cost_usd"`
	CreatedAt     time.Time  `db:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at"`
	StartedAt     *time.Time `db:"started_at"`
	FinishedAt    *time.Time `db:"finished_at"`
	// TotalsFolded is the metrics' bookkeeping (store.Totals), not part of
	// a run; scanned only because the queries read every column.
	TotalsFolded bool `db:"totals_folded"`
}

func (r *runRow) run(keys *store.Keyring) (*klaxontype.Run, error) {
	input, err := openColumn(keys, "input", r.Input)
	if err != nil {
		return nil, err
	}
	output, err := openColumn(keys, "output", r.Output)
	if err != nil {
		return nil, err
	}
	run := &klaxontype.Run{
		ID:              r.ID,
		Workflow:        r.Workflow,
		WorkflowVersion: r.WorkflowVersion,
		Status:          klaxontype.RunStatus(r.Status),
		Input:           input,
		Output:          output,
		IdempotencyKey:  str(r.IdempotencyKey),
		Attempt:         r.Attempt,
		Retries:         r.Retries,
		AttemptOffset:   r.AttemptOffset,
		StepGeneration:  r.StepGeneration,
		ReplayOf:        str(r.ReplayOf),
		Epoch:           r.Epoch,
		Priority:        r.Priority,
		ConcurrencyKey:  str(r.ConcurrencyKey),
		ConcurrencySlot: klaxontype.ConcurrencySlot(str(r.ConcurrencySlot)),
		LeaseHolder:     str(r.LeaseHolder),
		LeaseExpiresAt:  utc(r.LeaseExpiresAt),
		AvailableAt:     r.AvailableAt.UTC(),
		CreatedAt:       r.CreatedAt.UTC(),
		UpdatedAt:       r.UpdatedAt.UTC(),
		StartedAt:       utc(r.StartedAt),
		FinishedAt:      utc(r.FinishedAt),
		Spend:           r.spend(),
	}
	if len(r.Entities) > 0 {
		run.Entities = r.Entities
	}
	if r.BudgetTokens != nil || r.BudgetCostUSD != nil {
		run.Budget = &klaxontype.Budget{}
		if r.BudgetTokens != nil {
			run.Budget.Tokens = *r.BudgetTokens
		}
		if r.BudgetCostUSD != nil {
			run.Budget.CostUSD = *r.BudgetCostUSD
		}
	}
	if r.FailureClass != nil {
		run.Failure = &klaxontype.RunFailure{
			Class:  klaxontype.FailureClass(*r.FailureClass),
			Reason: str(r.FailureReason),
			Step:   str(r.FailedStep),
		}
		if r.FailedStepSeq != nil {
			run.Failure.StepSeq = *r.FailedStepSeq
		}
	}
	return run, nil
}

// collectRuns scans every row of a query that returns runs.
func (o opener) collectRuns(rows pgx.Rows, err error) ([]*klaxontype.Run, error) {
	if err != nil {
		return nil, err
	}
	rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[runRow])
	if err != nil {
		return nil, err
	}
	runs := make([]*klaxontype.Run, len(rowsOf))
	for i, r := range rowsOf {
		if runs[i], err = r.run(o.keys); err != nil {
			return nil, err
		}
	}
	return runs, nil
}

// collectRun scans the one run a query returns, or klaxontype.ErrNotFound.
func (o opener) collectRun(rows pgx.Rows, err error) (*klaxontype.Run, error) {
	runs, err := o.collectRuns(rows, err)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, klaxontype.ErrNotFound
	}
	return runs[0], nil
}

type stepRow struct {
	RunID             string     `db:"run_id"`
	Seq               int        `db:"seq"`
	Name              string     `db:"name"`
	Status            string     `db:"status"`
	Attempt           int        `db:"attempt"`
	Epoch             int64      `db:"epoch"`
	IdempotencyKey    string     `db:"idempotency_key"`
	Output            []byte     `db:"output"`
	StartedAt         time.Time  `db:"started_at"`
	FinishedAt        time.Time  `db:"finished_at"`
	CompensatedAt     *time.Time `db:"compensated_at"`
	CompensationError *string    `db:"compensation_error"`
	ResolvedBy        *string    `db:"resolved_by"`
	RateLimitWait     int64      `db:"rate_limit_wait_ns"`
	// The step's step.completed event: event_list.sql reads it; here the
	// columns are only scanned, since step_list.sql selects every column.
	EventID    *int64     `db:"event_id"`
	EventActor *string    `db:"event_actor"`
	EventAt    *time.Time `db:"event_at"`
	spendColumns
}

func (o opener) collectSteps(rows pgx.Rows, err error) ([]*klaxontype.StepRecord, error) {
	if err != nil {
		return nil, err
	}
	rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[stepRow])
	if err != nil {
		return nil, err
	}
	steps := make([]*klaxontype.StepRecord, len(rowsOf))
	for i, r := range rowsOf {
		output, err := openColumn(o.keys, "output", r.Output)
		if err != nil {
			return nil, err
		}
		steps[i] = &klaxontype.StepRecord{
			RunID:             r.RunID,
			Seq:               r.Seq,
			Name:              r.Name,
			Status:            klaxontype.StepStatus(r.Status),
			Attempt:           r.Attempt,
			Epoch:             r.Epoch,
			IdempotencyKey:    r.IdempotencyKey,
			Output:            output,
			StartedAt:         r.StartedAt.UTC(),
			FinishedAt:        r.FinishedAt.UTC(),
			CompensatedAt:     utc(r.CompensatedAt),
			CompensationError: str(r.CompensationError),
			ResolvedBy:        str(r.ResolvedBy),
			Spend:             r.spend(),
			RateLimitWait:     time.Duration(r.RateLimitWait),
		}
	}
	return steps, nil
}

type eventRow struct {
	ID      int64     `db:"id"`
	RunID   string    `db:"run_id"`
	Type    string    `db:"type"`
	Actor   string    `db:"actor"`
	At      time.Time `db:"at"`
	Step    *string   `db:"step"`
	StepSeq *int      `db:"step_seq"`
	Message *string   `db:"message"`
	Record  []byte    `db:"record"`
}

func collectEvents(rows pgx.Rows, err error) ([]*klaxontype.Event, error) {
	if err != nil {
		return nil, err
	}
	rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[eventRow])
	if err != nil {
		return nil, err
	}
	events := make([]*klaxontype.Event, len(rowsOf))
	for i, r := range rowsOf {
		events[i] = &klaxontype.Event{
			ID: r.ID, RunID: r.RunID, Type: klaxontype.EventType(r.Type), Actor: r.Actor, At: r.At.UTC(),
			Step: str(r.Step), StepSeq: num(r.StepSeq), Message: str(r.Message),
		}
		if r.Record != nil {
			events[i].Record = new(klaxontype.CompletionRecord)
			if err := json.Unmarshal(r.Record, events[i].Record); err != nil {
				return nil, fmt.Errorf("postgres: the completion record of event %d: %w", r.ID, err)
			}
		}
	}
	return events, nil
}

type attemptRow struct {
	ID           int64     `db:"id"`
	RunID        string    `db:"run_id"`
	Attempt      int       `db:"attempt"`
	At           time.Time `db:"at"`
	Worker       string    `db:"worker"`
	Step         *string   `db:"step"`
	StepSeq      *int      `db:"step_seq"`
	Class        string    `db:"class"`
	Message      string    `db:"message"`
	ClassifiedBy string    `db:"classified_by"`
	DurationUS   int64     `db:"duration_us"`
	Stack        *string   `db:"stack"`
	spendColumns
}

func collectAttempts(rows pgx.Rows, err error) ([]*klaxontype.Attempt, error) {
	if err != nil {
		return nil, err
	}
	rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[attemptRow])
	if err != nil {
		return nil, err
	}
	attempts := make([]*klaxontype.Attempt, len(rowsOf))
	for i, r := range rowsOf {
		attempts[i] = &klaxontype.Attempt{
			RunID: r.RunID, Attempt: r.Attempt, At: r.At.UTC(), Worker: r.Worker,
			Step: str(r.Step), StepSeq: num(r.StepSeq), Class: klaxontype.FailureClass(r.Class),
			Message: r.Message, ClassifiedBy: r.ClassifiedBy,
			Duration: time.Duration(r.DurationUS) * time.Microsecond, Stack: str(r.Stack), Spend: r.spend(),
		}
	}
	return attempts, nil
}

type deadLetterRow struct {
	ID              string            `db:"id"`
	RunID           string            `db:"run_id"`
	Workflow        string            `db:"workflow"`
	WorkflowVersion int               `db:"workflow_version"`
	Class           string            `db:"class"`
	Reason          string            `db:"reason"`
	Step            *string           `db:"step"`
	StepSeq         *int              `db:"step_seq"`
	OutputSchema    *string           `db:"output_schema"`
	Input           []byte            `db:"input"`
	Entities        map[string]string `db:"entities"`
	Channel         string            `db:"channel"`
	State           string            `db:"state"`
	CreatedAt       time.Time         `db:"created_at"`
	UpdatedAt       time.Time         `db:"updated_at"`
	ClosedBy        *string           `db:"closed_by"`
	ClosedAt        *time.Time        `db:"closed_at"`
	CloseReason     *string           `db:"close_reason"`
	ReplayMode      *string           `db:"replay_mode"`
	ReplayRunID     *string           `db:"replay_run_id"`
}

func (r *deadLetterRow) deadLetter(keys *store.Keyring) (*klaxontype.DeadLetter, error) {
	input, err := openColumn(keys, "input", r.Input)
	if err != nil {
		return nil, err
	}
	entry := &klaxontype.DeadLetter{
		ID:              r.ID,
		RunID:           r.RunID,
		Workflow:        r.Workflow,
		WorkflowVersion: r.WorkflowVersion,
		Class:           klaxontype.FailureClass(r.Class),
		Reason:          r.Reason,
		Input:           input,
		Channel:         r.Channel,
		State:           klaxontype.DeadLetterState(r.State),
		CreatedAt:       r.CreatedAt.UTC(),
		UpdatedAt:       r.UpdatedAt.UTC(),
		ClosedBy:        str(r.ClosedBy),
		ClosedAt:        utc(r.ClosedAt),
		CloseReason:     str(r.CloseReason),
		ReplayMode:      klaxontype.ReplayMode(str(r.ReplayMode)),
		ReplayRunID:     str(r.ReplayRunID),
		Entities:        r.Entities,
		Attempts:        []*klaxontype.Attempt{},
	}
	if entry.Entities == nil {
		entry.Entities = map[string]string{}
	}
	if r.Step != nil {
		entry.Step = &klaxontype.FailedStep{Name: *r.Step, Seq: num(r.StepSeq)}
	}
	if r.OutputSchema != nil && *r.OutputSchema != "" {
		entry.OutputSchema = json.RawMessage(*r.OutputSchema)
	}
	return entry, nil
}

func (o opener) collectDeadLetters(rows pgx.Rows, err error) ([]*klaxontype.DeadLetter, error) {
	if err != nil {
		return nil, err
	}
	rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[deadLetterRow])
	if err != nil {
		return nil, err
	}
	entries := make([]*klaxontype.DeadLetter, len(rowsOf))
	for i, r := range rowsOf {
		if entries[i], err = r.deadLetter(o.keys); err != nil {
			return nil, err
		}
	}
	return entries, nil
}

type deliveryRow struct {
	ID            int64      `db:"id"`
	Kind          string     `db:"kind"`
	EntryID       string     `db:"entry_id"`
	Channel       string     `db:"channel"`
	State         string     `db:"state"`
	Attempts      int        `db:"attempts"`
	NextAttemptAt time.Time  `db:"next_attempt_at"`
	ClaimedBy     *string    `db:"claimed_by"`
	ClaimedUntil  *time.Time `db:"claimed_until"`
	LastError     *string    `db:"last_error"`
	Payload       *string    `db:"payload"`
	CreatedAt     time.Time  `db:"created_at"`
	DeliveredAt   *time.Time `db:"delivered_at"`
}

func (r *deliveryRow) delivery() *klaxontype.Delivery {
	return &klaxontype.Delivery{
		ID: r.ID, EntryID: r.EntryID, Channel: r.Channel, State: klaxontype.DeliveryState(r.State),
		Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt.UTC(), LastError: str(r.LastError),
		CreatedAt: r.CreatedAt.UTC(), DeliveredAt: utc(r.DeliveredAt),
	}
}

type breakerRow struct {
	Workflow string     `db:"workflow"`
	State    string     `db:"state"`
	Reason   string     `db:"reason"`
	OpenedAt time.Time  `db:"opened_at"`
	Until    time.Time  `db:"until"`
	OpenedBy string     `db:"opened_by"`
	ResetAt  *time.Time `db:"reset_at"`
	ResetBy  *string    `db:"reset_by"`
}

func (r *breakerRow) breaker(at time.Time) *klaxontype.Breaker {
	return &klaxontype.Breaker{
		Workflow: r.Workflow, Open: r.State == "open" && r.Until.After(at), Reason: r.Reason,
		OpenedAt: r.OpenedAt.UTC(), Until: r.Until.UTC(), OpenedBy: r.OpenedBy,
		ResetAt: utc(r.ResetAt), ResetBy: str(r.ResetBy),
	}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func utc(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

// orNull binds a zero value as NULL, for optional columns: an empty text, a
// zero sequence number, a zero time.
func orNull[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// opener collects rows that hold payload columns, opening them with the
// store's keys.
type opener struct{ keys *store.Keyring }

// openColumn opens a payload column the store may have sealed.
func openColumn(keys *store.Keyring, column string, value []byte) ([]byte, error) {
	opened, err := keys.Open(value)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", column, err)
	}
	return opened, nil
}
