package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/internal/classify"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// ErrReplayFrontier is returned by a step call that has no record in the step
// log while a run is being replayed only to find its compensations: the
// workflow must not run new steps once the run has failed for good.
var ErrReplayFrontier = errors.New("klaxon: replay reached the first step without a record")

// Execution is the state of one attempt of one run: the step log it replays,
// the next sequence number, the steps executed and the compensations they
// registered. Step calls reach it through the context.
type Execution struct {
	run        *klaxontype.Run
	workflow   *Definition
	holder     string
	store      store.Store
	onStep     func(*klaxontype.StepOutcome)
	onSpend    func(*klaxontype.SpendOutcome)
	log        map[int]*klaxontype.StepRecord
	replayOnly bool
	// tracer, when set, gets a span per step call; classifier gives a failed
	// step's span its class.
	tracer     klaxontype.Tracer
	classifier classify.Chain

	mu       sync.Mutex
	lastSeq  int
	executed map[string]bool
	// done lists the steps replayed or checkpointed, in the order they
	// ended, for the run's completion record.
	done           []doneStep
	compensations  []compensation
	nondeterminism *klaxontype.NondeterminismError
	leaseLost      bool
	// outputSchemas describe the output types of failed steps, by sequence
	// number, for the dead-letter entry a person may resolve.
	outputSchemas map[int]func() []byte
	// committed is what this attempt's checkpointed steps spent; loose is
	// what its failed steps spent, recorded with the attempt's outcome.
	committed, loose klaxontype.Spend
}

// compensation is the undo of one completed step, registered when the step
// completed or was replayed.
type compensation struct {
	seq  int
	name string
	run  func(ctx context.Context) error
}

// StepHandle is a step call that has taken its sequence number.
type StepHandle struct {
	Seq            int
	Name           string
	IdempotencyKey string
	// Record is the step's entry in the log when it already completed; the call
	// must then return its output without running the step.
	Record *klaxontype.StepRecord
	// endSpan ends the step's span, when TraceStep started one.
	endSpan func(*klaxontype.StepOutcome)
}

func newExecution(run *klaxontype.Run, steps []*klaxontype.StepRecord, workflow *Definition, holder string, st store.Store, onStep func(*klaxontype.StepOutcome), onSpend func(*klaxontype.SpendOutcome)) *Execution {
	log := make(map[int]*klaxontype.StepRecord, len(steps))
	for _, step := range steps {
		log[step.Seq] = step
	}
	return &Execution{
		run: run, workflow: workflow, holder: holder, store: st, onStep: onStep, onSpend: onSpend,
		log: log, executed: make(map[string]bool, len(workflow.ExpectedSteps)),
		done: make([]doneStep, 0, max(len(workflow.ExpectedSteps), len(steps))),
	}
}

type executionKey struct{}

// WithExecution returns a context carrying the execution for step calls.
func WithExecution(ctx context.Context, e *Execution) context.Context {
	return context.WithValue(ctx, executionKey{}, e)
}

// ExecutionFrom returns the execution of the run the context belongs to, or nil
// outside a workflow run.
func ExecutionFrom(ctx context.Context) *Execution {
	e, _ := ctx.Value(executionKey{}).(*Execution)
	return e
}

// IdempotencyKey derives a step's key from the run, its sequence number and its
// name: the same on every retry of the run, different for every step. Steps run
// again after a from-step replay get keys of the new generation.
func IdempotencyKey(runID string, seq int, name string, generation int) string {
	if generation > 0 {
		return fmt.Sprintf("%s/%d/%s/g%d", runID, seq, name, generation)
	}
	return fmt.Sprintf("%s/%d/%s", runID, seq, name)
}

// Run is the run being executed.
func (e *Execution) Run() *klaxontype.Run { return e.run }

// BeginStep gives a step call its sequence number and finds it in the step
// log. A log entry with another name at that number is nondeterminism.
func (e *Execution) BeginStep(name string) (StepHandle, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.leaseLost {
		// Another worker holds the run: no new side effects from this one.
		return StepHandle{}, fmt.Errorf("step %q not started: %w", name, klaxontype.ErrLeaseLost)
	}
	e.lastSeq++
	h := StepHandle{Seq: e.lastSeq, Name: name, IdempotencyKey: IdempotencyKey(e.run.ID, e.lastSeq, name, e.run.StepGeneration)}
	record := e.log[h.Seq]
	if record != nil {
		h.IdempotencyKey = record.IdempotencyKey
	}
	if record != nil && record.Name != name {
		err := &klaxontype.NondeterminismError{Seq: h.Seq, Recorded: record.Name, Called: name}
		if e.nondeterminism == nil {
			e.nondeterminism = err
		}
		return h, &klaxontype.StepError{Name: name, Seq: h.Seq, Err: err}
	}
	if record == nil && e.replayOnly {
		return h, ErrReplayFrontier
	}
	if record != nil && record.Status != klaxontype.StepStatusCompleted && !e.replayOnly {
		// The step's work was undone by its compensation: its output no
		// longer stands, and only a restart can build on fresh work.
		return h, &klaxontype.StepError{Name: name, Seq: h.Seq, Err: &undoneError{status: record.Status}}
	}
	h.Record = record
	return h, nil
}

// TraceStep starts the step's span, when the worker has a tracer, and returns
// the context the step's function runs in, so that the spans of model and
// tool calls inside it are the step's children. The span ends when the step
// is replayed, fails or is checkpointed. Without a tracer it returns ctx.
func (e *Execution) TraceStep(ctx context.Context, h *StepHandle) context.Context {
	if e.tracer == nil {
		return ctx
	}
	ctx, h.endSpan = e.tracer.StartStep(ctx, e.run, h.Seq, h.Name)
	return ctx
}

// Tracer is the worker's tracer, or nil.
func (e *Execution) Tracer() klaxontype.Tracer { return e.tracer }

// Classify gives an error its failure class, as the worker's classifier
// would for an attempt that failed with it.
func (e *Execution) Classify(err error) klaxontype.FailureClass {
	if e.classifier == nil {
		return classify.Default().Classify(err).Class
	}
	return e.classifier.Classify(err).Class
}

// StepReplayed notes a step whose output came from the log, and registers its
// compensation.
func (e *Execution) StepReplayed(h StepHandle, compensate func(context.Context) error) {
	e.stepDone(h, compensate)
	if e.onStep != nil || h.endSpan != nil {
		outcome := &klaxontype.StepOutcome{RunID: e.run.ID, Workflow: e.run.Workflow, Seq: h.Seq, Name: h.Name, Replayed: true}
		e.stepEnded(h, outcome)
	}
}

// stepEnded tells the observer and the step's span how a step call ended.
func (e *Execution) stepEnded(h StepHandle, outcome *klaxontype.StepOutcome) {
	if e.onStep != nil {
		e.onStep(outcome)
	}
	if h.endSpan != nil {
		h.endSpan(outcome)
	}
}

// StepFailed notes a step whose function failed and returns the error wrapped
// with the step's name and sequence. outputSchema, if given, describes the
// step's output type, should a person have to supply the output.
func (e *Execution) StepFailed(h StepHandle, err error, duration time.Duration, outputSchema func() []byte) error {
	if outputSchema != nil {
		e.mu.Lock()
		if e.outputSchemas == nil {
			e.outputSchemas = make(map[int]func() []byte)
		}
		e.outputSchemas[h.Seq] = outputSchema
		e.mu.Unlock()
	}
	if e.onStep != nil || h.endSpan != nil {
		e.stepEnded(h, &klaxontype.StepOutcome{
			RunID: e.run.ID, Workflow: e.run.Workflow, Seq: h.Seq, Name: h.Name,
			Err: err, Class: e.Classify(err), Duration: duration,
		})
	}
	return &klaxontype.StepError{Name: h.Name, Seq: h.Seq, Err: err}
}

// SpendReported tells the observer, if any, of a model call's spend that a
// step's function reported.
func (e *Execution) SpendReported(h StepHandle, spend klaxontype.Spend) {
	if e.onSpend != nil {
		e.onSpend(&klaxontype.SpendOutcome{RunID: e.run.ID, Workflow: e.run.Workflow, Seq: h.Seq, Step: h.Name, Spend: spend})
	}
}

// Budget is the run's spending cap: the one set at enqueue, or the workflow's.
func (e *Execution) Budget() klaxontype.Budget {
	if e.run.Budget != nil {
		return *e.run.Budget
	}
	return e.workflow.Budget
}

// Spent is what the run has spent so far: its totals when the attempt began,
// plus this attempt's steps, completed or failed.
func (e *Execution) Spent() klaxontype.Spend {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.run.Spend.Add(e.committed).Add(e.loose)
}

// AddLooseSpend records what a failed step spent; it is written with the
// attempt's outcome.
func (e *Execution) AddLooseSpend(spend klaxontype.Spend) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.loose = e.loose.Add(spend)
}

// attemptSpend is everything this attempt spent.
func (e *Execution) attemptSpend() klaxontype.Spend {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.committed.Add(e.loose)
}

func (e *Execution) looseSpend() klaxontype.Spend {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.loose
}

// Checkpoint makes a completed step durable, with what it spent, and registers
// its compensation. It returns only once the step log holds the output. When
// the lease was taken over the write is refused and the execution stops
// writing.
func (e *Execution) Checkpoint(ctx context.Context, h StepHandle, output []byte, started, finished time.Time, spend klaxontype.Spend, compensate func(context.Context) error) error {
	begin := time.Now()
	err := e.store.StepCheckpoint(context.WithoutCancel(ctx), &store.StepCheckpointParams{
		Lease: store.Lease{RunID: e.run.ID, Epoch: e.run.Epoch}, Holder: e.holder,
		Seq: h.Seq, Name: h.Name, Attempt: e.run.Attempt, IdempotencyKey: h.IdempotencyKey,
		Output: output, StartedAt: started, FinishedAt: finished, Spend: spend,
	})
	latency := time.Since(begin)
	if err != nil {
		if errors.Is(err, klaxontype.ErrLeaseLost) || errors.Is(err, klaxontype.ErrStepExists) {
			e.mu.Lock()
			e.leaseLost = true
			e.mu.Unlock()
		}
		err = fmt.Errorf("checkpoint: %w", err)
		if h.endSpan != nil {
			h.endSpan(&klaxontype.StepOutcome{
				RunID: e.run.ID, Workflow: e.run.Workflow, Seq: h.Seq, Name: h.Name, Err: err, Class: e.Classify(err),
				Duration: finished.Sub(started), CheckpointLatency: latency, Spend: spend,
			})
		}
		return &klaxontype.StepError{Name: h.Name, Seq: h.Seq, Err: err}
	}
	e.mu.Lock()
	e.committed = e.committed.Add(spend)
	e.mu.Unlock()
	e.stepDone(h, compensate)
	if e.onStep != nil || h.endSpan != nil {
		e.stepEnded(h, &klaxontype.StepOutcome{
			RunID: e.run.ID, Workflow: e.run.Workflow, Seq: h.Seq, Name: h.Name,
			Duration: finished.Sub(started), CheckpointLatency: latency, Spend: spend,
		})
	}
	return nil
}

func (e *Execution) stepDone(h StepHandle, compensate func(context.Context) error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.executed[h.Name] = true
	e.done = append(e.done, doneStep{seq: h.Seq, name: h.Name})
	if compensate != nil {
		e.compensations = append(e.compensations, compensation{
			seq: h.Seq, name: h.Name, run: compensate,
		})
	}
}

// missingSteps lists the steps of the manifest the attempt did not execute.
func (e *Execution) missingSteps() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var missing []string
	for _, name := range e.workflow.ExpectedSteps {
		if !e.executed[name] {
			missing = append(missing, name)
		}
	}
	return missing
}

func (e *Execution) lostLease() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leaseLost
}

func (e *Execution) nondeterministic() *klaxontype.NondeterminismError {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nondeterminism
}

// outputSchema is the JSON Schema of a failed step's output type, if known.
func (e *Execution) outputSchema(seq int) []byte {
	e.mu.Lock()
	schema := e.outputSchemas[seq]
	e.mu.Unlock()
	if schema == nil {
		return nil
	}
	return schema()
}

// undoneError is a step whose recorded work was compensated.
type undoneError struct{ status klaxontype.StepStatus }

func (e *undoneError) Error() string {
	return fmt.Sprintf("the step's work was undone (%s); restart the run instead of resuming it", e.status)
}

// FailureClass makes building on undone work permanent.
func (e *undoneError) FailureClass() klaxontype.FailureClass { return klaxontype.ClassPermanent }
