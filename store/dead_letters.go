package store

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// DeadLetters is the dead-letter queue and a person's actions on it.
type DeadLetters interface {
	// DLQList returns dead-letter entries matching every filter, newest first,
	// without their attempts and deliveries (DLQGet has them).
	DLQList(ctx context.Context, params *DLQListParams) ([]*klaxontype.DeadLetter, error)
	// DLQGet returns one entry with its run's attempts and its deliveries, or
	// klaxontype.ErrNotFound.
	DLQGet(ctx context.Context, id string) (*klaxontype.DeadLetter, error)
	// DLQReplay replays an open entry's run and marks the entry replayed, linked
	// to the replay, in one transaction: of two concurrent replays of one entry,
	// one succeeds and the other gets klaxontype.ErrEntryNotOpen.
	DLQReplay(ctx context.Context, params *DLQReplayParams) (*klaxontype.DeadLetter, error)
	// DLQResolve records a person's output for an open entry's failed step as
	// completed, makes the run pending so it continues from there, and marks the
	// entry resolved.
	DLQResolve(ctx context.Context, params *DLQResolveParams) (*klaxontype.DeadLetter, error)
	// DLQDiscard closes an open entry; the run stays dead.
	DLQDiscard(ctx context.Context, params *DLQDiscardParams) (*klaxontype.DeadLetter, error)
	// DLQPurge deletes the entries matching the filter and records who purged
	// which entries. It is the only way an entry is ever deleted.
	DLQPurge(ctx context.Context, params *DLQPurgeParams) (purged int, err error)
}

// DLQListParams filters DLQList and DLQPurge. Zero fields do not filter.
type DLQListParams struct {
	Classes  []klaxontype.FailureClass
	States   []klaxontype.DeadLetterState
	Workflow string
	Channel  string
	// Entities keeps entries whose run carries every one of these labels.
	Entities map[string]string
	// CreatedAfter and CreatedBefore bound when the entry was created.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// BeforeID returns entries older than this entry ID (cursor pagination).
	BeforeID string
	// RunID keeps the entries of one run: a run replayed and dead again has
	// one per death.
	RunID string
	// Limit caps the number of entries; zero means 100.
	Limit int
}

// DLQReplayParams replays a dead run.
type DLQReplayParams struct {
	EntryID string
	Mode    klaxontype.ReplayMode
	// Step names the first step to run again, for from-step.
	Step string
	// Input replaces the run's input when set.
	Input []byte
	// NewRunID is the ID of the run a restart creates.
	NewRunID string
	// Budget, when set, replaces the run's budget: a run that died
	// budget_exceeded can be given more and resumed.
	Budget *klaxontype.Budget
	Actor  string
}

// DLQResolveParams completes an entry's failed step by hand.
type DLQResolveParams struct {
	EntryID string
	// Step must name the entry's failed step.
	Step string
	// Output is the step's output as JSON.
	Output []byte
	// IdempotencyKey is the key recorded on the step.
	IdempotencyKey string
	Actor          string
}

// DLQDiscardParams closes an entry without action.
type DLQDiscardParams struct {
	EntryID string
	Reason  string
	Actor   string
}

// DLQPurgeParams deletes entries.
type DLQPurgeParams struct {
	Filter DLQListParams
	Actor  string
}
