package store

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Children are the links between runs and the child runs their steps
// started, as people read them (a run's page, klaxon runs show). The links
// are written by RunEnqueue (ParentID); the rules a child's end and a
// parent's cancel follow are in Engine and Runs.
type Children interface {
	// RunFamily reads a run's parent, when the run is a child, and its
	// children in the order its steps started them, each with its workflow
	// and status now. A run with neither gives an empty family; an unknown
	// run gives klaxontype.ErrNotFound.
	RunFamily(ctx context.Context, runID string) (*klaxontype.RunFamily, error)
}
