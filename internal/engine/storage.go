package engine

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Storage is what a worker asks of the store: the engine's writes, the
// attempt history a completion record counts, the workflow breakers it
// judges and trips, and its last-seen time in the workers registry.
type Storage interface {
	store.Engine
	AttemptList(ctx context.Context, runID string) ([]*klaxontype.Attempt, error)
	BreakerTrip(ctx context.Context, params *store.BreakerTripParams) (opened bool, err error)
	BreakerTally(ctx context.Context, params *store.BreakerTallyParams) (*store.BreakerTally, error)
	// WorkerSeen keeps the workers registry's last-seen time of a worker
	// that heartbeats.
	WorkerSeen(ctx context.Context, params *store.WorkerSeenParams) error
}

// RemoteStorage is what a Remote asks of the store besides a worker's: the
// registered workflows, and a run with its step log, which a remote worker's
// report is judged against.
type RemoteStorage interface {
	Storage
	WorkflowLister
	RunGet(ctx context.Context, id string) (*klaxontype.Run, error)
	StepList(ctx context.Context, runID string) ([]*klaxontype.StepRecord, error)
	WorkerRegister(ctx context.Context, params *store.WorkerRegisterParams) error
	AuditAppend(ctx context.Context, params *store.AuditAppendParams) error
}

// WorkflowLister reads the registered workflows.
type WorkflowLister interface {
	WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error)
}
