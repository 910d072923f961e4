package http

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// BreakerList is every workflow breaker that ever tripped.
type BreakerList struct {
	Breakers []*klaxontype.Breaker `json:"breakers"`
}

type listBreakersOutput struct {
	Body BreakerList
}

type resetBreakerInput struct {
	Workflow string `path:"workflow" minLength:"1" maxLength:"200" doc:"The workflow whose breaker to close"`
}

// BreakerResetResponse says which breaker was closed.
type BreakerResetResponse struct {
	Workflow string `json:"workflow"`
	Reset    bool   `json:"reset"`
}

type resetBreakerOutput struct {
	Body BreakerResetResponse
}

// PurgeRequest deletes the dead-letter entries matching a filter.
type PurgeRequest struct {
	Filter DeadLetterFilter `json:"filter,omitzero"`
	// States keeps entries in these states; purging open entries loses runs
	// nobody looked at, so say so explicitly.
	States []klaxontype.DeadLetterState `json:"states,omitempty" doc:"Only entries in these states"`
	// All must be true to purge with an empty filter and no states.
	All bool `json:"all,omitempty" doc:"Required to purge with an empty filter and no states: every entry"`
}

// PurgeResponse counts the entries deleted.
type PurgeResponse struct {
	Purged int `json:"purged"`
}

type purgeInput struct {
	Body PurgeRequest
}

type purgeOutput struct {
	Body PurgeResponse
}

func (s *Server) registerAdmin() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-breakers", Method: http.MethodGet, Path: APIPrefix + "/breakers",
		Summary: "Workflow breakers that ever tripped, open or not", Tags: []string{"breakers"},
	}, func(ctx context.Context, _ *struct{}) (*listBreakersOutput, error) {
		breakers, err := s.client.Breakers(ctx)
		if err != nil {
			return nil, err
		}
		return &listBreakersOutput{Body: BreakerList{Breakers: orEmpty(breakers)}}, nil
	})
	register(s, ScopeAdmin, huma.Operation{
		OperationID: "reset-breaker", Method: http.MethodPost, Path: APIPrefix + "/breakers/{workflow}/reset",
		Summary: "Close a workflow's open breaker; its waiting runs are claimed again", Tags: []string{"breakers"},
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, input *resetBreakerInput) (*resetBreakerOutput, error) {
		if err := s.client.ResetBreaker(ctx, input.Workflow, actor(ctx)); err != nil {
			return nil, err
		}
		return &resetBreakerOutput{Body: BreakerResetResponse{Workflow: input.Workflow, Reset: true}}, nil
	})
	register(s, ScopeAdmin, huma.Operation{
		OperationID: "purge-dead-letters", Method: http.MethodPost, Path: APIPrefix + "/dlq/purge",
		Summary: "Delete the dead-letter entries matching a filter, recording who did", Tags: []string{"dead-letter queue"},
		Description: "The only way entries are ever deleted. An empty filter needs all: true.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *purgeInput) (*purgeOutput, error) {
		request := input.Body
		if request.Filter.empty() && len(request.States) == 0 && !request.All {
			return nil, invalid("a purge with an empty filter would delete every entry: give a filter or states, or all: true")
		}
		filter := request.Filter
		params := &klaxon.DeadLetterFilter{
			Classes: filter.Classes, States: request.States, Workflow: filter.Workflow, Channel: filter.Channel,
			Entities: filter.Entities, CreatedAfter: filter.Since, CreatedBefore: filter.Until,
		}
		purged, err := s.client.PurgeDeadLetters(ctx, params, actor(ctx))
		if err != nil {
			return nil, err
		}
		return &purgeOutput{Body: PurgeResponse{Purged: purged}}, nil
	})
}
