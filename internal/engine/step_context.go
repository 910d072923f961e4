package engine

import (
	"context"
	"sync"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// activeStep is the step whose code a context was handed to: what StepFrom
// tells of it, and what its function reported spending so far.
type activeStep struct {
	exec         *Execution
	seq          int
	name, key    string
	compensating bool

	mu    sync.Mutex
	spend klaxontype.Spend
	// ended is set once the engine took the step's spend for its outcome:
	// what the function reports after that (it ran past its deadline) is
	// late, and recorded on its own.
	ended bool
}

type activeStepKey struct{}

func (s *activeStep) total() klaxontype.Spend {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spend
}

// end takes the step's spend for its outcome; later spend is late.
func (s *activeStep) end() klaxontype.Spend {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	return s.spend
}

// StepInfo describes the step whose code is running. The root package hands
// it to users as klaxon.StepInfo.
type StepInfo struct {
	RunID          string
	Workflow       string
	Seq            int
	Name           string
	IdempotencyKey string
	Attempt        int
	Compensating   bool
}

// StepFrom returns the step whose code ctx was handed to: a step's function
// or its compensation.
func StepFrom(ctx context.Context) (StepInfo, bool) {
	s, ok := ctx.Value(activeStepKey{}).(*activeStep)
	if !ok {
		return StepInfo{}, false
	}
	return StepInfo{
		RunID: s.exec.run.ID, Workflow: s.exec.run.Workflow, Seq: s.seq, Name: s.name,
		IdempotencyKey: s.key, Attempt: s.exec.run.Attempt, Compensating: s.compensating,
	}, true
}

// RecordSpend adds a model call's spend to the step whose function ctx was
// handed to, and tells the OnSpend hook. The step's spend is checkpointed
// with its output, or recorded with the attempt when the step fails; spend
// reported after the engine stopped waiting for the function (its timeout)
// is late, and recorded at once. Outside a step's function (and in a
// compensation) it does nothing.
func RecordSpend(ctx context.Context, spend klaxontype.Spend) {
	s, ok := ctx.Value(activeStepKey{}).(*activeStep)
	if !ok || s.compensating {
		return
	}
	s.mu.Lock()
	late := s.ended
	if !late {
		s.spend = s.spend.Add(spend)
	}
	s.mu.Unlock()
	if late {
		s.exec.recordLateSpend(ctx, s, spend)
	}
	if e := s.exec; e.onSpend != nil {
		outcome := &klaxontype.SpendOutcome{RunID: e.run.ID, Workflow: e.run.Workflow, Seq: s.seq, Step: s.name, Spend: spend}
		callHook(e.logger, "OnSpend", func() { e.onSpend(outcome) })
	}
}

// Spent is what the run ctx belongs to has spent so far: its totals when the
// attempt began, this attempt's steps, completed or failed, and what the
// current step's function reported.
func Spent(ctx context.Context) klaxontype.Spend {
	e := ExecutionFrom(ctx)
	if e == nil {
		return klaxontype.Spend{}
	}
	spent := e.spent()
	if s, ok := ctx.Value(activeStepKey{}).(*activeStep); ok && !s.compensating {
		spent = spent.Add(s.total())
	}
	return spent
}

// Budget is the spending cap of the run ctx belongs to: the one set at
// enqueue, or the workflow's.
func Budget(ctx context.Context) klaxontype.Budget {
	e := ExecutionFrom(ctx)
	if e == nil {
		return klaxontype.Budget{}
	}
	if e.run.Budget != nil {
		return *e.run.Budget
	}
	return e.workflow.Budget
}
