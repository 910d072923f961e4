package metrics

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Storage is what a StoreCollector reads: the store's counts, and the
// workflows, breakers and alerts it labels them by; and the folding that
// keeps the run totals cheap to read.
type Storage interface {
	store.Reports
	store.Totals
	WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error)
	BreakerList(ctx context.Context) ([]*klaxontype.Breaker, error)
	AlertList(ctx context.Context, params *store.AlertListParams) ([]*klaxontype.Alert, error)
}
