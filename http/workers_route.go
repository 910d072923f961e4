package http

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// WorkerList is the workers registry, the most recently seen first.
type WorkerList struct {
	Workers []*klaxontype.Worker `json:"workers"`
}

type listWorkersInput struct {
	Limit int `query:"limit" minimum:"0" maximum:"1000" doc:"Most workers to list (default 100)"`
}

type listWorkersOutput struct {
	Body WorkerList
}

// registerWorkers serves the workers registry, which is not part of the
// worker protocol: workers write it by registering and heartbeating, people
// read it here.
func (s *Server) registerWorkers() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-workers", Method: http.MethodGet, Path: APIPrefix + "/workers",
		Summary: "The workers registry: every worker that registered, the most recently seen first", Tags: []string{"workers"},
		Description: "Each worker's ID (the holder of the runs it leases), the language, SDK version and runtime it " +
			"registered with, the workflows it hosts, and when it registered and was last heard from (registration or heartbeat).",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *listWorkersInput) (*listWorkersOutput, error) {
		workers, err := s.client.Workers(ctx, input.Limit)
		if err != nil {
			return nil, err
		}
		return &listWorkersOutput{Body: WorkerList{Workers: orEmpty(workers)}}, nil
	})
}

// Workers lists the workers registry, the most recently seen first, at most
// limit of them (zero: the server's default) (scope read).
func (c *Client) Workers(ctx context.Context, limit int) ([]*klaxontype.Worker, error) {
	values := url.Values{}
	if limit != 0 {
		values.Set("limit", strconv.Itoa(limit))
	}
	var list WorkerList
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/workers", values, nil, &list); err != nil {
		return nil, err
	}
	return list.Workers, nil
}
