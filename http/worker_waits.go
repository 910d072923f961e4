package http

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/protocol"
)

type waitInput struct {
	RunID string `path:"run_id" minLength:"1" maxLength:"64" doc:"Run ID"`
	Seq   int    `path:"seq" minimum:"1" maximum:"100000" doc:"The wait's sequence number, as a step's"`
	Body  *protocol.WaitRequest
}

type waitOutput struct {
	Body *protocol.WaitAnswer
}

// registerWorkerWaits serves the durable waits of remote workers' workflows
// (docs/worker-protocol.md, "Wait").
func (s *Server) registerWorkerWaits() {
	if s.workers == nil {
		return
	}
	workers := s.workers
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-wait", Method: http.MethodPost, Path: APIPrefix + "/worker/runs/{run_id}/waits/{seq}",
		Summary: "Reach a durable wait: a sleep, a signal or an approval", Tags: []string{"worker protocol"},
		Description: "The answer's state is satisfied (the result, recorded in the step log: go on), timed_out (raise the wait's timeout failure, class timeout, to the workflow) " +
			"or waiting (the run now waits without a lease: stop the workflow at once and send nothing more for the run). " +
			"The deadline is the server's, fixed when the run first reaches the wait. A stale epoch is refused with 409 lease-lost; " +
			"another step at the sequence with 409 nondeterminism.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *waitInput) (*waitOutput, error) {
		answer, err := workers.Wait(ctx, input.RunID, input.Seq, input.Body)
		if err != nil {
			return nil, err
		}
		return &waitOutput{Body: answer}, nil
	})
}
