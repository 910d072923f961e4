package alert

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Storage is what an evaluator asks of the store: its alerts, the counts its
// rules measure, and the few reads that name what a rule found.
type Storage interface {
	store.Alerts
	store.Reports
	WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error)
	BreakerList(ctx context.Context) ([]*klaxontype.Breaker, error)
	DLQList(ctx context.Context, params *store.DLQListParams) ([]*klaxontype.DeadLetter, error)
	WaitList(ctx context.Context, params *store.WaitListParams) ([]*klaxontype.Wait, error)
}
