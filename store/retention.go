package store

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// MaxRetentionBatch bounds how many runs one retention batch deletes, so that
// no batch holds the database long enough to stall claims and checkpoints.
const MaxRetentionBatch = 10000

// Retention deletes old ended runs in bounded batches. It never deletes a run
// that is not ended (completed, dead or cancelled) nor one with an open
// dead-letter entry.
type Retention interface {
	// RunListExpired returns the IDs of the oldest ended runs of a workflow
	// that finished before a time, oldest first: the next batch to export
	// and delete.
	RunListExpired(ctx context.Context, params *RunListExpiredParams) ([]string, error)
	// RunsDelete deletes the runs given that are still ended with no open
	// dead-letter entry, with their steps, archived steps, events, attempts,
	// entity labels, closed dead-letter entries and notifications, and
	// records the deletion in the audit log, in one transaction; it returns
	// the IDs it deleted.
	RunsDelete(ctx context.Context, params *RunsDeleteParams) (deleted []string, err error)
}

// RunListExpiredParams selects a batch of expired runs.
type RunListExpiredParams struct {
	// Workflow is required: a batch walks one workflow's ended runs in the
	// order they finished.
	Workflow       string
	FinishedBefore time.Time
	// Statuses are the terminal statuses to delete; empty means all three.
	Statuses []klaxontype.RunStatus
	// Limit is the batch's size, 1 to MaxRetentionBatch.
	Limit int
}

// Validate refuses a batch without a workflow or a time, of a status that is
// not terminal, or of a size out of bounds. Its error matches
// klaxontype.ErrInvalid.
func (p *RunListExpiredParams) Validate() error {
	if p.Workflow == "" || p.FinishedBefore.IsZero() {
		return invalidf("a retention batch needs a workflow and a time its runs finished before")
	}
	for _, status := range p.Statuses {
		if !status.Terminal() {
			return invalidf("retention deletes only ended runs: %q is not completed, dead or cancelled", status)
		}
	}
	if p.Limit < 1 || p.Limit > MaxRetentionBatch {
		return invalidf("a retention batch of %d runs: give 1 to %d", p.Limit, MaxRetentionBatch)
	}
	return nil
}

// TerminalStatuses are the statuses to delete: those given, or all three.
func (p *RunListExpiredParams) TerminalStatuses() []klaxontype.RunStatus {
	if len(p.Statuses) > 0 {
		return p.Statuses
	}
	return []klaxontype.RunStatus{klaxontype.RunStatusCompleted, klaxontype.RunStatusDead, klaxontype.RunStatusCancelled}
}

// RunsDeleteParams deletes a batch of expired runs.
type RunsDeleteParams struct {
	IDs []string
	// Actor and Rule are recorded in the audit log: who ran retention, and
	// under which rule (for example "completed older than 30d").
	Actor string
	Rule  string
}
