package store

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Runs reads the runs and their histories, and cancels a run: what the
// API, the CLI and the dashboard show of a run and the person's act on it.
type Runs interface {
	// WorkflowList returns every workflow ever registered, by name.
	WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error)
	// RunGet returns one run, or klaxontype.ErrNotFound.
	RunGet(ctx context.Context, id string) (*klaxontype.Run, error)
	// RunList returns runs matching every filter, newest first.
	RunList(ctx context.Context, params *RunListParams) ([]*klaxontype.Run, error)
	// RunCancel stops a pending, retrying, waiting or running run for good: it becomes
	// cancelled at once (terminal, finished, its failure of class cancelled
	// carrying the reason) with a run.cancelled event naming the actor and
	// carrying the run's completion record, built in the same transaction by
	// klaxontype.CompletionRecordOf from the step log, the attempt history and
	// the workflow's registered manifest. A running run loses its lease in
	// the same transaction, so its holder's next write (checkpoint,
	// completion, failure, release) is refused with klaxontype.ErrLeaseLost
	// and recorded as duplicate.suppressed, and its next heartbeat reports
	// the lease lost, which stops the execution; no claim takes a cancelled
	// run again. Compensations of completed steps are
	// not run. A completed, dead or cancelled run, and a compensating one
	// (which ends dead, in the dead-letter queue), is refused with
	// klaxontype.ErrRunNotCancellable naming its status, unchanged; an
	// unknown run gives klaxontype.ErrNotFound.
	RunCancel(ctx context.Context, params *RunCancelParams) (*klaxontype.Run, error)
	// StepList returns a run's step log by sequence.
	StepList(ctx context.Context, runID string) ([]*klaxontype.StepRecord, error)
	// EventList returns a run's event log, oldest first, terminal events
	// with the completion record they were written with.
	EventList(ctx context.Context, runID string) ([]*klaxontype.Event, error)
	// AttemptList returns a run's failed attempts, oldest first.
	AttemptList(ctx context.Context, runID string) ([]*klaxontype.Attempt, error)
}

// RunListParams filters RunList. Zero fields do not filter.
type RunListParams struct {
	Statuses []klaxontype.RunStatus
	Workflow string
	// Entities keeps runs carrying every one of these labels.
	Entities map[string]string
	// CreatedAfter and CreatedBefore bound when the run was enqueued: from
	// CreatedAfter inclusive to CreatedBefore exclusive, as for DLQ entries.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// BeforeID returns runs older than this run ID (cursor pagination).
	BeforeID string
	// Limit caps the number of runs; zero means 100.
	Limit int
}

// RunCancelParams cancels a run.
type RunCancelParams struct {
	ID string
	// Reason is why, recorded on the run's failure and its run.cancelled
	// event; it may be empty.
	Reason string
	// Actor is who cancels, recorded on the run.cancelled event.
	Actor string
}
