package http

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// DeadLetterPage is a page of dead-letter entries, newest first.
type DeadLetterPage struct {
	Entries []*klaxontype.DeadLetter `json:"entries"`
	// NextCursor fetches the next, older page; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty" doc:"Pass as cursor for the next, older page; absent on the last page"`
}

type listDeadLettersInput struct {
	Class    []string  `query:"class" enum:"transient,rate_limited,timeout,permanent,policy_violation,context_overflow,semantic,budget_exceeded,partial_completion,nondeterminism,compensation_failed,cancelled" doc:"Only entries of these failure classes, comma-separated"`
	State    []string  `query:"state" enum:"open,replayed,resolved,discarded" doc:"Only entries in these states, comma-separated"`
	Workflow string    `query:"workflow" maxLength:"200" doc:"Only entries of this workflow"`
	Channel  string    `query:"channel" maxLength:"200" doc:"Only entries routed to this channel"`
	Entity   []string  `query:"entity,explode" doc:"Only entries whose run is labelled key=value; repeatable, all must match"`
	Since    time.Time `query:"since" doc:"Only entries created at or after this time (RFC 3339)"`
	Until    time.Time `query:"until" doc:"Only entries created before this time (RFC 3339)"`
	Run      string    `query:"run" maxLength:"64" doc:"Only entries of this run (a run replayed and dead again has one per death)"`
	Limit    int       `query:"limit" minimum:"1" maximum:"1000" default:"50" doc:"At most this many entries"`
	Cursor   string    `query:"cursor" doc:"next_cursor of the previous page"`
}

type listDeadLettersOutput struct {
	Body DeadLetterPage
}

type entryIDInput struct {
	ID string `path:"id" minLength:"1" maxLength:"64" doc:"Dead-letter entry ID"`
}

type entryOutput struct {
	Body *klaxontype.DeadLetter
}

// ReplayRequest says how to replay one entry.
type ReplayRequest struct {
	Mode klaxontype.ReplayMode `json:"mode,omitempty" enum:"resume,from-step,restart" doc:"resume (default) keeps completed steps; from-step re-runs step and every later one; restart creates a new linked run"`
	// Step is the first step to run again, for from-step.
	Step string `json:"step,omitempty" doc:"For from-step: the first step to run again"`
	// Input replaces the run's input when present.
	Input json.RawMessage `json:"input,omitempty" doc:"Replaces the run's input when present"`
	// Budget replaces the run's budget, each field given.
	Budget *klaxontype.Budget `json:"budget,omitempty" doc:"A new budget for the run (tokens, cost_usd; each given replaces the run's): a run that died budget_exceeded gets more"`
	// DryRun only says what the replay would do.
	DryRun bool `json:"dry_run,omitempty" doc:"Only say what the replay would do; change nothing"`
}

// ReplayResponse says what a replay did, or would do.
type ReplayResponse struct {
	DryRun bool               `json:"dry_run"`
	Plan   *klaxon.ReplayPlan `json:"plan"`
	// Entry is the replayed entry; absent in a dry run.
	Entry *klaxontype.DeadLetter `json:"entry,omitempty"`
}

type replayInput struct {
	ID string `path:"id" minLength:"1" maxLength:"64" doc:"Dead-letter entry ID"`
	// Body is optional (a pointer, for huma): without one, the run resumes.
	Body *ReplayRequest
}

type replayOutput struct {
	Body ReplayResponse
}

// DeadLetterFilter selects open entries for a bulk replay or discard.
type DeadLetterFilter struct {
	Classes  []klaxontype.FailureClass `json:"classes,omitempty" doc:"Only entries of these failure classes"`
	Workflow string                    `json:"workflow,omitempty"`
	Channel  string                    `json:"channel,omitempty"`
	Entities map[string]string         `json:"entities,omitempty" doc:"Only entries whose run carries every one of these labels"`
	Since    time.Time                 `json:"since,omitzero" doc:"Only entries created at or after this time"`
	Until    time.Time                 `json:"until,omitzero" doc:"Only entries created before this time"`
}

func (f *DeadLetterFilter) empty() bool {
	return len(f.Classes) == 0 && f.Workflow == "" && f.Channel == "" && len(f.Entities) == 0 && f.Since.IsZero() && f.Until.IsZero()
}

// BulkReplayRequest replays every open entry matching a filter.
type BulkReplayRequest struct {
	Filter DeadLetterFilter `json:"filter,omitzero"`
	// All must be true to replay every open entry with an empty filter.
	All    bool                  `json:"all,omitempty" doc:"Required to replay with an empty filter: every open entry"`
	Mode   klaxontype.ReplayMode `json:"mode,omitempty" enum:"resume,from-step,restart" doc:"As for one entry; default resume"`
	Step   string                `json:"step,omitempty" doc:"For from-step: the first step to run again"`
	Input  json.RawMessage       `json:"input,omitempty" doc:"Replaces every matched run's input when present"`
	Budget *klaxontype.Budget    `json:"budget,omitempty" doc:"A new budget for every matched run (tokens, cost_usd)"`
	DryRun bool                  `json:"dry_run,omitempty" doc:"Only count and list the entries that would be replayed"`
	// EntryIDs confirms a dry run: only these of the matching entries.
	EntryIDs []string `json:"entry_ids,omitempty" doc:"The entry_ids of the dry run being confirmed: only those entries are replayed; any closed or no longer matching since is skipped"`
}

type bulkReplayInput struct {
	Body BulkReplayRequest
}

type bulkReplayOutput struct {
	Body *klaxon.BulkReplayResult
}

// BulkDiscardRequest closes every open entry matching a filter without
// action.
type BulkDiscardRequest struct {
	Filter DeadLetterFilter `json:"filter,omitzero"`
	// All must be true to discard every open entry with an empty filter.
	All    bool   `json:"all,omitempty" doc:"Required to discard with an empty filter: every open entry"`
	Reason string `json:"reason" minLength:"1" maxLength:"2000" doc:"Why the entries need no action, recorded on each"`
	DryRun bool   `json:"dry_run,omitempty" doc:"Only count and list the entries that would be discarded"`
	// EntryIDs confirms a dry run: only these of the matching entries.
	EntryIDs []string `json:"entry_ids,omitempty" doc:"The entry_ids of the dry run being confirmed: only those entries are discarded; any closed or no longer matching since is skipped"`
}

type bulkDiscardInput struct {
	Body BulkDiscardRequest
}

type bulkDiscardOutput struct {
	Body *klaxon.BulkDiscardResult
}

// ResolveRequest supplies the output of an entry's failed step.
type ResolveRequest struct {
	Step   string          `json:"step" minLength:"1" doc:"The entry's failed step"`
	Output json.RawMessage `json:"output" doc:"The step's output, checked against its output type"`
}

type resolveInput struct {
	ID   string `path:"id" minLength:"1" maxLength:"64" doc:"Dead-letter entry ID"`
	Body ResolveRequest
}

// DiscardRequest closes an entry without action.
type DiscardRequest struct {
	Reason string `json:"reason" minLength:"1" maxLength:"2000" doc:"Why the entry needs no action, for the audit trail"`
}

type discardInput struct {
	ID   string `path:"id" minLength:"1" maxLength:"64" doc:"Dead-letter entry ID"`
	Body DiscardRequest
}

func (s *Server) registerDeadLetters() {
	tags := []string{"dead-letter queue"}
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-dead-letters", Method: http.MethodGet, Path: APIPrefix + "/dlq",
		Summary: "List dead-letter entries, newest first", Tags: tags,
		Errors: []int{http.StatusUnprocessableEntity},
	}, s.listDeadLetters)
	register(s, ScopeRead, huma.Operation{
		OperationID: "get-dead-letter", Method: http.MethodGet, Path: APIPrefix + "/dlq/{id}",
		Summary: "A dead-letter entry with its attempts and deliveries", Tags: tags,
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, input *entryIDInput) (*entryOutput, error) {
		entry, err := s.client.DeadLetter(ctx, input.ID)
		if err != nil {
			return nil, err
		}
		return s.maskedEntry(ctx, entry)
	})
	register(s, ScopeOperate, huma.Operation{
		OperationID: "replay-dead-letter", Method: http.MethodPost, Path: APIPrefix + "/dlq/{id}/replay",
		Summary: "Replay one entry's run, or say what a replay would do", Tags: tags,
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, s.replay)
	register(s, ScopeOperate, huma.Operation{
		OperationID: "replay-dead-letters", Method: http.MethodPost, Path: APIPrefix + "/dlq/replay",
		Summary: "Replay every open entry matching a filter", Tags: tags,
		Errors: []int{http.StatusUnprocessableEntity},
	}, s.replayMatching)
	register(s, ScopeOperate, huma.Operation{
		OperationID: "discard-dead-letters", Method: http.MethodPost, Path: APIPrefix + "/dlq/discard",
		Summary: "Discard every open entry matching a filter; the runs stay dead", Tags: tags,
		Errors: []int{http.StatusUnprocessableEntity},
	}, s.discardMatching)
	register(s, ScopeOperate, huma.Operation{
		OperationID: "resolve-dead-letter", Method: http.MethodPost, Path: APIPrefix + "/dlq/{id}/resolve",
		Summary: "Supply the failed step's output; the run continues from there", Tags: tags,
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *resolveInput) (*entryOutput, error) {
		if err := s.refuseMarkerForEntry(ctx, input.ID, "output", input.Body.Output); err != nil {
			return nil, err
		}
		entry, err := s.client.Resolve(ctx, input.ID, input.Body.Step, input.Body.Output, actor(ctx))
		if err != nil {
			return nil, err
		}
		return s.maskedEntry(ctx, entry)
	})
	register(s, ScopeOperate, huma.Operation{
		OperationID: "discard-dead-letter", Method: http.MethodPost, Path: APIPrefix + "/dlq/{id}/discard",
		Summary: "Close an entry without action; the run stays dead", Tags: tags,
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *discardInput) (*entryOutput, error) {
		entry, err := s.client.Discard(ctx, input.ID, input.Body.Reason, actor(ctx))
		if err != nil {
			return nil, err
		}
		return s.maskedEntry(ctx, entry)
	})
}

func (s *Server) listDeadLetters(ctx context.Context, input *listDeadLettersInput) (*listDeadLettersOutput, error) {
	params, err := deadLetterFilter(input.Class, input.State, input.Entity)
	if err != nil {
		return nil, err
	}
	params.Workflow, params.Channel, params.RunID, params.Limit = input.Workflow, input.Channel, input.Run, input.Limit+1
	params.CreatedAfter, params.CreatedBefore = input.Since, input.Until
	if params.BeforeID, err = parseCursor(input.Cursor); err != nil {
		return nil, err
	}
	entries, err := s.client.DeadLetters(ctx, params)
	if err != nil {
		return nil, err
	}
	output := &listDeadLettersOutput{Body: DeadLetterPage{Entries: orEmpty(entries)}}
	if len(entries) > input.Limit {
		output.Body.Entries = entries[:input.Limit]
		output.Body.NextCursor = entries[input.Limit-1].ID
	}
	mask, err := s.maskFor(ctx)
	if err != nil {
		return nil, err
	}
	mask.deadLetters(output.Body.Entries)
	return output, nil
}

// deadLetterFilter reads the class, state and entity filters of a listing,
// naming a value that is not a class, a state or key=value.
func deadLetterFilter(classes, states, entities []string) (*klaxon.DeadLetterFilter, error) {
	params := &klaxon.DeadLetterFilter{}
	for _, name := range classes {
		class := klaxontype.FailureClass(strings.TrimSpace(name))
		if !class.Valid() {
			return nil, invalid("class %q is not a failure class (%s)", name, joinNames(klaxontype.FailureClasses()))
		}
		params.Classes = append(params.Classes, class)
	}
	for _, name := range states {
		state := klaxontype.DeadLetterState(strings.TrimSpace(name))
		if !state.Valid() {
			return nil, invalid("state %q is not a dead-letter state (%s)", name, joinNames(klaxontype.DeadLetterStates()))
		}
		params.States = append(params.States, state)
	}
	var err error
	if params.Entities, err = parseEntities(entities); err != nil {
		return nil, err
	}
	return params, nil
}

func (s *Server) replay(ctx context.Context, input *replayInput) (*replayOutput, error) {
	request := ReplayRequest{}
	if input.Body != nil {
		request = *input.Body
	}
	if err := s.refuseMarkerForEntry(ctx, input.ID, "input", request.Input); err != nil {
		return nil, err
	}
	options := klaxon.ReplayOptions{Mode: request.Mode, Step: request.Step, Input: request.Input, Budget: request.Budget, Actor: actor(ctx)}
	plan, err := s.client.PlanReplay(ctx, input.ID, options)
	if err != nil {
		return nil, err
	}
	output := &replayOutput{Body: ReplayResponse{DryRun: request.DryRun, Plan: plan}}
	if request.DryRun {
		return output, nil
	}
	if output.Body.Entry, err = s.client.Replay(ctx, input.ID, options); err != nil {
		return nil, err
	}
	mask, err := s.maskFor(ctx)
	if err != nil {
		return nil, err
	}
	mask.deadLetter(output.Body.Entry)
	return output, nil
}

func (s *Server) replayMatching(ctx context.Context, input *bulkReplayInput) (*bulkReplayOutput, error) {
	request := input.Body
	params, err := request.Filter.params("replay", request.All)
	if err != nil {
		return nil, err
	}
	if err := s.refuseMarker(ctx, request.Filter.Workflow, "input", request.Input); err != nil {
		return nil, err
	}
	options := klaxon.ReplayOptions{Mode: request.Mode, Step: request.Step, Input: request.Input, Budget: request.Budget, Actor: actor(ctx)}
	params.EntryIDs = request.EntryIDs
	result, err := s.client.ReplayMatching(ctx, params, options, request.DryRun)
	if err != nil {
		return nil, err
	}
	return &bulkReplayOutput{Body: result}, nil
}

func (s *Server) discardMatching(ctx context.Context, input *bulkDiscardInput) (*bulkDiscardOutput, error) {
	request := input.Body
	params, err := request.Filter.params("discard", request.All)
	if err != nil {
		return nil, err
	}
	params.EntryIDs = request.EntryIDs
	result, err := s.client.DiscardMatching(ctx, params, request.Reason, actor(ctx), request.DryRun)
	if err != nil {
		return nil, err
	}
	return &bulkDiscardOutput{Body: result}, nil
}

// params checks a bulk action's filter and turns it into the store's. An
// empty one would match every open entry, so it needs all: true.
func (f *DeadLetterFilter) params(action string, all bool) (*klaxon.DeadLetterFilter, error) {
	if f.empty() && !all {
		return nil, invalid("a bulk %s with an empty filter would %s every open entry: give a filter, or all: true", action, action)
	}
	for _, class := range f.Classes {
		if !class.Valid() {
			return nil, invalid("class %q is not a failure class (%s)", class, joinNames(klaxontype.FailureClasses()))
		}
	}
	return &klaxon.DeadLetterFilter{
		Classes: f.Classes, Workflow: f.Workflow, Channel: f.Channel, Entities: f.Entities,
		CreatedAfter: f.Since, CreatedBefore: f.Until,
	}, nil
}
