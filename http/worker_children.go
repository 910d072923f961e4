package http

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/protocol"
)

type childStartInput struct {
	RunID string `path:"run_id" minLength:"1" maxLength:"64" doc:"The parent's run ID"`
	Seq   int    `path:"seq" minimum:"1" maximum:"100000" doc:"The sequence number of the parent's step that starts the child"`
	Body  *protocol.ChildStartRequest
}

type childStartOutput struct {
	Body *protocol.ChildStartAnswer
}

type childAwaitInput struct {
	RunID string `path:"run_id" minLength:"1" maxLength:"64" doc:"The parent's run ID"`
	Seq   int    `path:"seq" minimum:"1" maximum:"100000" doc:"The first await's sequence number; the others follow it"`
	Body  *protocol.ChildAwaitRequest
}

type childAwaitOutput struct {
	Body *protocol.ChildAwaitAnswer
}

// registerWorkerChildren serves the child runs of remote workers' workflows
// (docs/worker-protocol.md, "Child runs").
func (s *Server) registerWorkerChildren() {
	if s.workers == nil {
		return
	}
	workers := s.workers
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-child-start", Method: http.MethodPost, Path: APIPrefix + "/worker/runs/{run_id}/children/{seq}",
		Summary: "Start a child run from the parent's step", Tags: []string{"worker protocol"},
		Description: "The step at the sequence records the child's run ID; a repeated request, or a later attempt's, finds the same child (duplicate: true) and starts no other. " +
			"An unknown child workflow or an input that fails its schema is answered state failed, class permanent, and nothing is started: fail the step with it. " +
			"A stale epoch is refused with 409 lease-lost; another step at the sequence with 409 nondeterminism.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *childStartInput) (*childStartOutput, error) {
		answer, err := workers.ChildStart(ctx, input.RunID, input.Seq, input.Body)
		if err != nil {
			return nil, err
		}
		return &childStartOutput{Body: answer}, nil
	})
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-child-await", Method: http.MethodPost, Path: APIPrefix + "/worker/runs/{run_id}/awaits/{seq}",
		Summary: "Await child runs: a wait step each, at consecutive sequence numbers", Tags: []string{"worker protocol"},
		Description: "The answer's state is satisfied (every child's output, in order, recorded in the step log: go on), failed (a child ended dead or cancelled: " +
			"raise the child failure, with the child's class, at the await named), timed_out (the await passed its deadline: raise the wait-timeout failure) " +
			"or waiting (the run now waits without a lease until the children end: stop the workflow at once and send nothing more for the run).",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *childAwaitInput) (*childAwaitOutput, error) {
		answer, err := workers.ChildAwait(ctx, input.RunID, input.Seq, input.Body)
		if err != nil {
			return nil, err
		}
		return &childAwaitOutput{Body: answer}, nil
	})
}
