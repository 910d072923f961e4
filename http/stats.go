package http

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

type statsInput struct {
	Window   string `query:"window" maxLength:"32" example:"24h" doc:"How far back: a Go duration, default 24h, at most 2160h (90 days)"`
	Step     string `query:"step" maxLength:"32" example:"1h" doc:"Width of a bucket: a Go duration of whole seconds, at least 1m, at most 1000 buckets in the window; default window/24 rounded up to a whole minute"`
	Workflow string `query:"workflow" maxLength:"200" doc:"Only runs and entries of this workflow; empty for all"`
}

type statsOutput struct {
	Body *klaxontype.Stats
}

func (s *Server) registerStats() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "get-stats", Method: http.MethodGet, Path: APIPrefix + "/stats",
		Summary: "Time series of runs, dead letters, cost, tokens and retries", Tags: []string{"stats"},
		Description: "Per bucket of step, from the bucket aligned to a multiple of step that starts the window to the one holding now: " +
			"runs enqueued, runs that ended by terminal status, dead-letter entries created by failure class, " +
			"and the known cost, the tokens and the retries of the runs that ended, with their per-run figures. " +
			"Runs whose cost includes an unknown price are counted apart, never as $0. " +
			"A window or step that is not a valid duration or is out of its limits is refused with 400 naming the parameter.",
		Errors: []int{http.StatusBadRequest},
	}, s.stats)
}

func (s *Server) stats(ctx context.Context, input *statsInput) (*statsOutput, error) {
	query, err := klaxon.ParseStatsQuery(input.Window, input.Step, input.Workflow)
	var queryErr *klaxon.StatsQueryError
	if errors.As(err, &queryErr) {
		return nil, huma.Error400BadRequest(queryErr.Error(), &huma.ErrorDetail{
			Location: "query." + queryErr.Param, Message: queryErr.Problem, Value: paramValue(input, queryErr.Param),
		})
	}
	if err != nil {
		return nil, err
	}
	stats, err := s.client.Stats(ctx, query)
	if err != nil {
		return nil, err
	}
	return &statsOutput{Body: stats}, nil
}

// paramValue is the text a request gave for a stats parameter.
func paramValue(input *statsInput, param string) string {
	if param == "step" {
		return input.Step
	}
	return input.Window
}
