package http

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/protocol"
)

// The worker protocol's operations (docs/worker-protocol.md): processes in
// any language host workflows through them, with a token of scope worker.

type registerWorkerInput struct {
	Body *protocol.RegisterRequest
}

type registerWorkerOutput struct {
	Body *protocol.RegisterAnswer
}

type claimInput struct {
	Body *protocol.ClaimRequest
}

type claimOutput struct {
	Body *protocol.ClaimAnswer
}

type heartbeatInput struct {
	Body *protocol.HeartbeatRequest
}

type heartbeatOutput struct {
	Body *protocol.HeartbeatAnswer
}

type checkpointInput struct {
	RunID string `path:"run_id" minLength:"1" maxLength:"64" doc:"Run ID"`
	Seq   int    `path:"seq" minimum:"1" maximum:"100000" doc:"The step's sequence number"`
	Body  *protocol.CheckpointRequest
}

type checkpointOutput struct {
	Body *protocol.CheckpointAnswer
}

type outcomeInput struct {
	RunID string `path:"run_id" minLength:"1" maxLength:"64" doc:"Run ID"`
	Body  *protocol.OutcomeRequest
}

type outcomeOutput struct {
	Body *protocol.OutcomeAnswer
}

type compensationInput struct {
	RunID string `path:"run_id" minLength:"1" maxLength:"64" doc:"Run ID"`
	Seq   int    `path:"seq" minimum:"1" maximum:"100000" doc:"The compensated step's sequence number"`
	Body  *protocol.CompensationRequest
}

type compensationOutput struct {
	Body *protocol.CompensationAnswer
}

type releaseInput struct {
	RunID string `path:"run_id" minLength:"1" maxLength:"64" doc:"Run ID"`
	Body  *protocol.ReleaseRequest
}

type releaseOutput struct {
	Body struct {
		Released bool `json:"released"`
	}
}

func (s *Server) registerWorkerProtocol() {
	if s.workers == nil {
		return
	}
	workers := s.workers
	tags := []string{"worker protocol"}
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-register", Method: http.MethodPost, Path: APIPrefix + "/worker/register",
		Summary: "Register the workflows a worker hosts", Tags: tags,
		Description: "Records each workflow with its step manifest, policies and schemas, as an in-process worker's start does. " +
			"A manifest that differs from the one recorded for the same workflow version is refused with 409 manifest-conflict.",
		Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *registerWorkerInput) (*registerWorkerOutput, error) {
		answer, err := workers.Register(ctx, input.Body)
		if err != nil {
			return nil, err
		}
		return &registerWorkerOutput{Body: answer}, nil
	})
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-claim", Method: http.MethodPost, Path: APIPrefix + "/worker/claim",
		Summary: "Claim runs, waiting up to wait_ms for one (long poll)", Tags: tags,
		Description: "Each claimed run comes with its epoch, which fences every later write, and its step log, from which completed steps are replayed. " +
			"An enqueue through any server of the database ends the wait at once.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *claimInput) (*claimOutput, error) {
		answer, err := workers.Claim(ctx, input.Body)
		if err != nil {
			return nil, err
		}
		return &claimOutput{Body: answer}, nil
	})
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-heartbeat", Method: http.MethodPost, Path: APIPrefix + "/worker/heartbeat",
		Summary: "Renew leases; the answer lists the runs no longer held", Tags: tags,
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *heartbeatInput) (*heartbeatOutput, error) {
		answer, err := workers.Heartbeat(ctx, input.Body)
		if err != nil {
			return nil, err
		}
		return &heartbeatOutput{Body: answer}, nil
	})
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-checkpoint", Method: http.MethodPost, Path: APIPrefix + "/worker/runs/{run_id}/steps/{seq}",
		Summary: "Checkpoint a completed step", Tags: tags,
		Description: "A stale epoch is refused with 409 lease-lost and recorded as duplicate.suppressed; another step at the sequence with 409 nondeterminism; " +
			"an output that fails the step's registered schema with 422 invalid-output. The same request repeated is answered with the step as recorded.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *checkpointInput) (*checkpointOutput, error) {
		answer, err := workers.Checkpoint(ctx, input.RunID, input.Seq, input.Body)
		if err != nil {
			return nil, err
		}
		return &checkpointOutput{Body: answer}, nil
	})
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-outcome", Method: http.MethodPost, Path: APIPrefix + "/worker/runs/{run_id}/outcome",
		Summary: "Report how an attempt ended; the answer says what comes next", Tags: tags,
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *outcomeInput) (*outcomeOutput, error) {
		answer, err := workers.Outcome(ctx, input.RunID, input.Body)
		if err != nil {
			return nil, err
		}
		return &outcomeOutput{Body: answer}, nil
	})
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-compensation", Method: http.MethodPost, Path: APIPrefix + "/worker/runs/{run_id}/compensations/{seq}",
		Summary: "Record a compensation's outcome", Tags: tags,
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *compensationInput) (*compensationOutput, error) {
		recorded, err := workers.Compensation(ctx, input.RunID, input.Seq, input.Body)
		if err != nil {
			return nil, err
		}
		return &compensationOutput{Body: &protocol.CompensationAnswer{Recorded: recorded}}, nil
	})
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-release", Method: http.MethodPost, Path: APIPrefix + "/worker/runs/{run_id}/release",
		Summary: "Give a held run back to the queue (the worker is stopping)", Tags: tags,
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *releaseInput) (*releaseOutput, error) {
		if err := workers.Release(ctx, input.RunID, input.Body); err != nil {
			return nil, err
		}
		output := &releaseOutput{}
		output.Body.Released = true
		return output, nil
	})
	s.registerWorkerWaits()
	s.registerWorkerChildren()
}
