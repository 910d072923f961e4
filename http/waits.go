package http

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

type signalRunInput struct {
	ID   string `path:"id" minLength:"1" maxLength:"64" doc:"Run ID"`
	Name string `path:"name" minLength:"1" maxLength:"200" doc:"The signal's name: the name its WaitForSignal waits on"`
	// IdempotencyKey makes a retried send answer with the first signal.
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"A send repeated with the same key (a retried webhook) answers with the first signal, duplicate true, and records nothing"`
	// Body is the payload: any JSON, as a webhook sends it.
	Body json.RawMessage
}

type signalEntityInput struct {
	Name           string `path:"name" minLength:"1" maxLength:"200" doc:"The signal's name"`
	Entity         string `query:"entity" required:"true" minLength:"3" maxLength:"400" doc:"The entity the runs are labelled with, as KEY=VALUE (order_id=42)"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"A send repeated with the same key answers with the first signal and records nothing"`
	Body           json.RawMessage
}

type signalOutput struct {
	Body *klaxon.SignalResult
}

// SignalsSent is what became of a signal sent by entity, one result a run.
type SignalsSent struct {
	Results []*klaxon.SignalResult `json:"results"`
}

type signalsOutput struct {
	Body SignalsSent
}

// ApprovalPage lists the approval requests waiting for a decision, oldest
// first.
type ApprovalPage struct {
	Approvals []*klaxontype.Wait `json:"approvals"`
}

type listApprovalsInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"At most this many requests"`
}

type listApprovalsOutput struct {
	Body ApprovalPage
}

// DecisionRequest approves or rejects an approval request.
type DecisionRequest struct {
	Decision string          `json:"decision" enum:"approve,reject" doc:"approve or reject"`
	Comment  string          `json:"comment,omitempty" maxLength:"4000" doc:"Why; recorded with the decision, in the run's event log and the audit log"`
	Data     json.RawMessage `json:"data,omitempty" doc:"The request's data as edited by the approver; absent keeps it as asked"`
}

type decideInput struct {
	ID   string `path:"id" minLength:"1" maxLength:"64" doc:"Run ID"`
	Name string `path:"name" minLength:"1" maxLength:"200" doc:"The approval request's name"`
	Body DecisionRequest
}

type decisionOutput struct {
	Body *klaxontype.ApprovalDecision
}

func (s *Server) registerWaits() {
	register(s, ScopeOperate, huma.Operation{
		OperationID: "signal-run", Method: http.MethodPost, Path: APIPrefix + "/runs/{id}/signals/{name}",
		Summary: "Send a signal to a run", Tags: []string{"waits"},
		Description: "The body is the signal's payload, any JSON. A run waiting on the name takes it at once " +
			"(consumed true; a payload that does not fit the waiting type is refused with 422) and is claimable again; " +
			"otherwise the run keeps it for its next wait of that name (consumed false). " +
			"Refused with 409, recording nothing, when the run ended, waits on that name for a timer or an approval, " +
			"keeps a signal of that name already, or its workflow's manifest has no step of that name.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *signalRunInput) (*signalOutput, error) {
		payload, err := signalPayload(input.Body)
		if err != nil {
			return nil, err
		}
		result, err := s.client.Signal(ctx, input.ID, input.Name, payload, actor(ctx), klaxon.SignalKey(input.IdempotencyKey))
		if err != nil {
			return nil, err
		}
		if err := s.maskSignalResults(ctx, result); err != nil {
			return nil, err
		}
		return &signalOutput{Body: result}, nil
	})
	register(s, ScopeOperate, huma.Operation{
		OperationID: "signal-entity", Method: http.MethodPost, Path: APIPrefix + "/signals/{name}",
		Summary: "Send a signal to the runs of an entity", Tags: []string{"waits"},
		Description: "For a webhook that knows an order, not a run: every run labelled with the entity and waiting on the name " +
			"takes the signal; if none waits, the entity's one open run keeps it. No open run of the entity is 404; " +
			"several open runs and none waiting is 409.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *signalEntityInput) (*signalsOutput, error) {
		key, value, ok := strings.Cut(input.Entity, "=")
		if !ok || key == "" || value == "" {
			return nil, invalid("entity %q is not KEY=VALUE", input.Entity)
		}
		payload, err := signalPayload(input.Body)
		if err != nil {
			return nil, err
		}
		results, err := s.client.SignalEntity(ctx, key, value, input.Name, payload, actor(ctx), klaxon.SignalKey(input.IdempotencyKey))
		if err != nil {
			return nil, err
		}
		if err := s.maskSignalResults(ctx, results...); err != nil {
			return nil, err
		}
		return &signalsOutput{Body: SignalsSent{Results: results}}, nil
	})
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-approvals", Method: http.MethodGet, Path: APIPrefix + "/approvals",
		Summary: "The approvals inbox: requests waiting for a decision, oldest first", Tags: []string{"waits"},
	}, func(ctx context.Context, input *listApprovalsInput) (*listApprovalsOutput, error) {
		approvals, err := s.client.Approvals(ctx, input.Limit)
		if err != nil {
			return nil, err
		}
		mask, err := s.maskFor(ctx)
		if err != nil {
			return nil, err
		}
		mask.waits(approvals)
		return &listApprovalsOutput{Body: ApprovalPage{Approvals: approvals}}, nil
	})
	register(s, ScopeOperate, huma.Operation{
		OperationID: "decide-approval", Method: http.MethodPost, Path: APIPrefix + "/runs/{id}/approvals/{name}",
		Summary: "Approve or reject a run's approval request", Tags: []string{"waits"},
		Description: "Records the decision with the token's name as the approver; the run is claimable again at once. " +
			"A run with no open request of that name is 404; a token the request does not name among its approvers is 403.",
		Errors: []int{http.StatusNotFound, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *decideInput) (*decisionOutput, error) {
		decision := klaxon.Decision{
			Approved: input.Body.Decision == "approve", Comment: input.Body.Comment, Data: input.Body.Data,
		}
		run, err := s.runs.RunGet(ctx, input.ID)
		if err != nil {
			return nil, err
		}
		if err := s.refuseMarker(ctx, run.Workflow, "data", input.Body.Data); err != nil {
			return nil, err
		}
		decided, err := s.client.DecideApproval(ctx, input.ID, input.Name, decision, actor(ctx))
		if err != nil {
			return nil, err
		}
		mask, err := s.maskFor(ctx)
		if err != nil {
			return nil, err
		}
		decided.Data = mask.rule(run.Workflow).JSON(decided.Data)
		return &decisionOutput{Body: decided}, nil
	})
}

// signalPayload is a signal's body: JSON, or null when empty.
func signalPayload(body []byte) ([]byte, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return []byte("null"), nil
	}
	if !json.Valid(body) {
		return nil, invalid("the signal's payload is not valid JSON")
	}
	return body, nil
}
