package http

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

type runTreeInput struct {
	ID     string `path:"id" minLength:"1" maxLength:"64" doc:"Run ID"`
	Depth  int    `query:"depth" minimum:"1" maximum:"6" default:"3" doc:"How many generations below the run to open"`
	Listed int    `query:"listed" minimum:"1" maximum:"500" default:"20" doc:"At most this many children listed per run; the rest are counted"`
}

type runTreeOutput struct {
	Body *klaxontype.RunTree
}

// registerFamily serves a run's family as a tree, which the dashboard's run
// page draws; GET /runs/{id} has the flat list of the run's children.
func (s *Server) registerFamily() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "get-run-family", Method: http.MethodGet, Path: APIPrefix + "/runs/{id}/family",
		Summary: "A run's parent and its descendants as a tree", Tags: []string{"runs"},
		Description: "Each opened run's children are counted by status and at most `listed` of them listed " +
			"(open and dead ones first when they do not all fit), down to `depth` generations, opening at most 100 runs; " +
			"a child not opened still says how many children it has.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, input *runTreeInput) (*runTreeOutput, error) {
		tree, err := s.client.RunTree(ctx, input.ID, klaxon.TreeLimits{Depth: input.Depth, Listed: input.Listed})
		if err != nil {
			return nil, err
		}
		return &runTreeOutput{Body: tree}, nil
	})
}
