package http

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// WorkflowSummary is a workflow some worker registered in the store, with
// how many of its runs are in each status.
type WorkflowSummary struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	// ExpectedSteps is the step manifest every completed run must have
	// executed; empty when the workflow declares none.
	ExpectedSteps []string `json:"expected_steps"`
	// InputSchema is the JSON Schema of the workflow's input type, against
	// which POST /runs checks an input; absent when the worker recorded none.
	InputSchema json.RawMessage `json:"input_schema,omitempty" doc:"JSON Schema of the input type, against which enqueued inputs are checked; absent when the worker recorded none"`
	// Policies are the policies the workflow's workers apply; absent when
	// the worker recorded none.
	Policies     *klaxontype.WorkflowPolicies `json:"policies,omitempty" doc:"Retry, timeout, budget, breaker and spend-rate policies the workers apply; durations in nanoseconds; absent when the worker recorded none"`
	RegisteredAt time.Time                    `json:"registered_at"`
	UpdatedAt    time.Time                    `json:"updated_at"`
	// Runs counts the workflow's runs by status; every status is present.
	Runs map[klaxontype.RunStatus]int `json:"runs" doc:"Runs by status; every status is present"`
}

// WorkflowList is every workflow known to the store, by name.
type WorkflowList struct {
	Workflows []*WorkflowSummary `json:"workflows"`
}

type listWorkflowsOutput struct {
	Body WorkflowList
}

func (s *Server) registerWorkflows() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-workflows", Method: http.MethodGet, Path: APIPrefix + "/workflows",
		Summary: "Workflows known to the store, with their runs counted by status", Tags: []string{"workflows"},
	}, s.listWorkflows)
}

func (s *Server) listWorkflows(ctx context.Context, _ *struct{}) (*listWorkflowsOutput, error) {
	workflows, err := s.runs.WorkflowList(ctx)
	if err != nil {
		return nil, err
	}
	output := &listWorkflowsOutput{Body: WorkflowList{Workflows: []*WorkflowSummary{}}}
	for _, workflow := range workflows {
		counts, err := s.reports.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: workflow.Name})
		if err != nil {
			return nil, err
		}
		summary := &WorkflowSummary{
			Name: workflow.Name, Version: workflow.Version, ExpectedSteps: orEmpty(workflow.ExpectedSteps),
			InputSchema: workflow.InputSchema, Policies: workflow.Policies,
			RegisteredAt: workflow.RegisteredAt, UpdatedAt: workflow.UpdatedAt,
			Runs: make(map[klaxontype.RunStatus]int),
		}
		for _, status := range klaxontype.RunStatuses() {
			summary.Runs[status] = counts[status]
		}
		output.Body.Workflows = append(output.Body.Workflows, summary)
	}
	return output, nil
}
