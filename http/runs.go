package http

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// EnqueueRequest asks for a run of a workflow.
type EnqueueRequest struct {
	// Workflow must be registered in the store by some worker.
	Workflow string `json:"workflow" minLength:"1" maxLength:"200" doc:"Name of a workflow some worker registered in the store"`
	// Input is the run's input, any JSON that fits the workflow's recorded
	// input schema; null when absent.
	Input json.RawMessage `json:"input,omitempty" doc:"The run's input: JSON that fits the workflow's input_schema when one was recorded (null when absent)"`
	// IdempotencyKey deduplicates enqueues of the workflow.
	IdempotencyKey string `json:"idempotency_key,omitempty" maxLength:"255" doc:"A second enqueue of the workflow with the same key returns the existing run (200) and creates nothing"`
	// Entities label the run so it can be found by them.
	Entities map[string]string `json:"entities,omitempty" doc:"Labels such as document_id=42 that runs can be listed by"`
	// Priority orders the run's claims; nil takes the workflow's default.
	Priority *int `json:"priority,omitempty" minimum:"-100" maximum:"100" doc:"-100..100, higher claimed first; claims go by available_at minus priority × 10 s, so none starves (default: the workflow's default priority, else 0)"`
}

// EnqueueResponse is the run an enqueue created or found.
type EnqueueResponse struct {
	Run *klaxontype.Run `json:"run"`
	// Deduplicated is true when the idempotency key found an existing run.
	Deduplicated bool `json:"deduplicated" doc:"True when the idempotency key returned an existing run"`
}

type enqueueInput struct {
	Body EnqueueRequest
}

type enqueueOutput struct {
	Status int
	Body   EnqueueResponse
}

// RunPage is a page of runs, newest first.
type RunPage struct {
	Runs []*klaxontype.Run `json:"runs"`
	// NextCursor fetches the next, older page; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty" doc:"Pass as cursor for the next, older page; absent on the last page"`
}

type listRunsInput struct {
	Status   []string  `query:"status" enum:"pending,running,retrying,waiting,completed,compensating,dead,cancelled" doc:"Only runs in these statuses, comma-separated"`
	Workflow string    `query:"workflow" maxLength:"200" doc:"Only runs of this workflow"`
	Entity   []string  `query:"entity,explode" doc:"Only runs labelled key=value; repeatable, all must match"`
	Since    time.Time `query:"since" doc:"Only runs enqueued at or after this time (RFC 3339)"`
	Until    time.Time `query:"until" doc:"Only runs enqueued before this time (RFC 3339)"`
	Limit    int       `query:"limit" minimum:"1" maximum:"1000" default:"50" doc:"At most this many runs"`
	Cursor   string    `query:"cursor" doc:"next_cursor of the previous page"`
}

type listRunsOutput struct {
	Body RunPage
}

// RunDetail is a run with its step log, failed attempts, event log and
// manifest.
type RunDetail struct {
	Run *klaxontype.Run `json:"run"`
	// Manifest compares executed and expected steps; absent when the
	// workflow declares none.
	Manifest *Manifest                `json:"manifest,omitempty"`
	Steps    []*klaxontype.StepRecord `json:"steps"`
	Attempts []*klaxontype.Attempt    `json:"attempts"`
	Events   []*klaxontype.Event      `json:"events"`
	// Waits are the run's durable waits: what it waits (or waited) for,
	// until when, and how each ended.
	Waits []*klaxontype.Wait `json:"waits"`
	// Signals are the signals sent to the run, kept or consumed.
	Signals []*klaxontype.Signal `json:"signals"`
	// Family is the run's parent, when it is a child run, and the child
	// runs its steps started, with their statuses.
	Family *klaxontype.RunFamily `json:"family"`
}

// Manifest compares a run's executed steps with its workflow's expected ones.
type Manifest struct {
	Expected []string `json:"expected"`
	Executed []string `json:"executed"`
	Missing  []string `json:"missing"`
}

type runIDInput struct {
	ID string `path:"id" minLength:"1" maxLength:"64" doc:"Run ID"`
}

type runDetailOutput struct {
	Body RunDetail
}

// CancelRequest says why a run is cancelled.
type CancelRequest struct {
	Reason string `json:"reason,omitempty" maxLength:"2000" doc:"Why, recorded on the run's failure and its run.cancelled event"`
}

type cancelInput struct {
	ID string `path:"id" minLength:"1" maxLength:"64" doc:"Run ID"`
	// Body is optional (a pointer, for huma): a cancel needs no reason.
	Body *CancelRequest
}

type runOutput struct {
	Body *klaxontype.Run
}

func (s *Server) registerRuns() {
	register(s, ScopeOperate, huma.Operation{
		OperationID: "enqueue-run", Method: http.MethodPost, Path: APIPrefix + "/runs",
		Summary: "Enqueue a run", Tags: []string{"runs"},
		Description: "Creates a run (201), or returns the run an idempotency key already created (200). " +
			"A workflow no worker ever registered in the store is refused with 404, " +
			"and an input that does not fit the input schema its worker recorded with 422 naming each failing path.",
		DefaultStatus: http.StatusCreated,
		Responses: map[string]*huma.Response{
			"200": {Description: "The idempotency key found an existing run; nothing was created"},
		},
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.enqueue)
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-runs", Method: http.MethodGet, Path: APIPrefix + "/runs",
		Summary: "List runs, newest first", Tags: []string{"runs"},
		Errors: []int{http.StatusUnprocessableEntity},
	}, s.listRuns)
	register(s, ScopeRead, huma.Operation{
		OperationID: "get-run", Method: http.MethodGet, Path: APIPrefix + "/runs/{id}",
		Summary: "A run with its step log, attempts, event log and manifest", Tags: []string{"runs"},
		Errors: []int{http.StatusNotFound},
	}, s.getRun)
	register(s, ScopeOperate, huma.Operation{
		OperationID: "cancel-run", Method: http.MethodPost, Path: APIPrefix + "/runs/{id}/cancel",
		Summary: "Cancel a run for good", Tags: []string{"runs"},
		Description: "A pending or retrying run is never claimed again; a running one loses its lease and its worker stops it. " +
			"A run that has ended, or is compensating, is refused with 409 and nothing changes.",
		Errors: []int{http.StatusNotFound, http.StatusConflict},
	}, func(ctx context.Context, input *cancelInput) (*runOutput, error) {
		var reason string
		if input.Body != nil {
			reason = input.Body.Reason
		}
		run, err := s.client.Cancel(ctx, input.ID, reason, actor(ctx))
		if err != nil {
			return nil, err
		}
		mask, err := s.maskFor(ctx)
		if err != nil {
			return nil, err
		}
		mask.run(run)
		return &runOutput{Body: run}, nil
	})
}

func (s *Server) enqueue(ctx context.Context, input *enqueueInput) (*enqueueOutput, error) {
	request := input.Body
	// An enqueue through the API is an operator's act: audited.
	opts := []klaxon.EnqueueOption{klaxon.Audited()}
	if request.IdempotencyKey != "" {
		opts = append(opts, klaxon.WithIdempotencyKey(request.IdempotencyKey))
	}
	for key, value := range request.Entities {
		if key == "" {
			return nil, invalid("an entity needs a key")
		}
		opts = append(opts, klaxon.WithEntity(key, value))
	}
	if err := s.refuseMarker(ctx, request.Workflow, "input", request.Input); err != nil {
		return nil, err
	}
	if request.Priority != nil {
		opts = append(opts, klaxon.WithPriority(*request.Priority))
	}
	result, err := s.client.EnqueueAs(ctx, actor(ctx), request.Workflow, request.Input, opts...)
	if err != nil {
		return nil, err
	}
	// A deduplicated enqueue answers with a run someone else's input made.
	mask, err := s.maskFor(ctx)
	if err != nil {
		return nil, err
	}
	mask.run(result.Run)
	output := &enqueueOutput{Status: http.StatusCreated, Body: EnqueueResponse{Run: result.Run, Deduplicated: result.Deduplicated}}
	if result.Deduplicated {
		output.Status = http.StatusOK
	}
	return output, nil
}

func (s *Server) listRuns(ctx context.Context, input *listRunsInput) (*listRunsOutput, error) {
	params := &store.RunListParams{
		Workflow: input.Workflow, Limit: input.Limit + 1,
		CreatedAfter: input.Since, CreatedBefore: input.Until,
	}
	for _, name := range input.Status {
		status := klaxontype.RunStatus(strings.TrimSpace(name))
		if !status.Valid() {
			return nil, invalid("status %q is not a run status (%s)", name, joinNames(klaxontype.RunStatuses()))
		}
		params.Statuses = append(params.Statuses, status)
	}
	entities, err := parseEntities(input.Entity)
	if err != nil {
		return nil, err
	}
	params.Entities = entities
	if params.BeforeID, err = parseCursor(input.Cursor); err != nil {
		return nil, err
	}
	runs, err := s.runs.RunList(ctx, params)
	if err != nil {
		return nil, err
	}
	output := &listRunsOutput{Body: RunPage{Runs: runs}}
	if len(runs) > input.Limit {
		output.Body.Runs = runs[:input.Limit]
		output.Body.NextCursor = runs[input.Limit-1].ID
	}
	if output.Body.Runs == nil {
		output.Body.Runs = []*klaxontype.Run{}
	}
	mask, err := s.maskFor(ctx)
	if err != nil {
		return nil, err
	}
	mask.runs(output.Body.Runs)
	return output, nil
}

func (s *Server) getRun(ctx context.Context, input *runIDInput) (*runDetailOutput, error) {
	st := s.runs
	run, err := st.RunGet(ctx, input.ID)
	if err != nil {
		return nil, err
	}
	detail := RunDetail{Run: run}
	if detail.Steps, err = st.StepList(ctx, run.ID); err != nil {
		return nil, err
	}
	if detail.Attempts, err = st.AttemptList(ctx, run.ID); err != nil {
		return nil, err
	}
	if detail.Events, err = st.EventList(ctx, run.ID); err != nil {
		return nil, err
	}
	if detail.Waits, err = s.client.Waits(ctx, run.ID); err != nil {
		return nil, err
	}
	if detail.Signals, err = s.client.Signals(ctx, run.ID); err != nil {
		return nil, err
	}
	if detail.Family, err = s.client.RunFamily(ctx, run.ID); err != nil {
		return nil, err
	}
	workflows, err := st.WorkflowList(ctx)
	if err != nil {
		return nil, err
	}
	detail.Manifest = runManifest(run, workflows, detail.Steps)
	detail.Steps = orEmpty(detail.Steps)
	detail.Attempts = orEmpty(detail.Attempts)
	detail.Events = orEmpty(detail.Events)
	mask, err := s.maskFor(ctx)
	if err != nil {
		return nil, err
	}
	mask.runDetail(&detail)
	return &runDetailOutput{Body: detail}, nil
}

// runManifest compares the run's step log with its workflow's expected steps;
// nil when the workflow declares none.
func runManifest(run *klaxontype.Run, workflows []*klaxontype.WorkflowInfo, steps []*klaxontype.StepRecord) *Manifest {
	var expected []string
	for _, workflow := range workflows {
		if workflow.Name == run.Workflow {
			expected = workflow.ExpectedSteps
		}
	}
	if len(expected) == 0 {
		return nil
	}
	manifest := &Manifest{Expected: expected, Executed: []string{}, Missing: []string{}}
	executed := make(map[string]bool)
	for _, step := range steps {
		manifest.Executed = append(manifest.Executed, step.Name)
		executed[step.Name] = true
	}
	for _, name := range expected {
		if !executed[name] {
			manifest.Missing = append(manifest.Missing, name)
		}
	}
	return manifest
}

// parseEntities reads key=value filters.
func parseEntities(pairs []string) (map[string]string, error) {
	var entities map[string]string
	for _, pair := range pairs {
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key == "" {
			return nil, invalid("entity %q is not key=value", pair)
		}
		if entities == nil {
			entities = make(map[string]string)
		}
		entities[key] = value
	}
	return entities, nil
}

// parseCursor checks that a cursor is an ID the server handed out (a ULID),
// so that a mangled one is an error rather than a page that quietly starts
// somewhere else.
func parseCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	id, err := ulid.ParseStrict(cursor)
	if err != nil {
		return "", invalid("cursor %q is not a cursor this server returned: %v", cursor, err)
	}
	return id.String(), nil
}

func joinNames[T ~string](values []T) string {
	names := make([]string, len(values))
	for i, value := range values {
		names[i] = string(value)
	}
	return strings.Join(names, ", ")
}

// orEmpty makes a nil list encode as [] rather than null.
func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
