package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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
	store      store.Engine
	onStep     func(*klaxontype.StepOutcome)
	onSpend    func(*klaxontype.SpendOutcome)
	log        map[int]*klaxontype.StepRecord
	replayOnly bool
	// tracer, when set, gets a span per step call; classifier gives a failed
	// step's span its class.
	tracer     klaxontype.Tracer
	classifier classify.Chain
	// logger reports hooks that panicked.
	logger *slog.Logger
	// runCtx is the context the workflow body runs in, set before the body
	// starts: once it ends (the run's timeout, a cancel, a lost lease, a
	// shutdown) no step begins, whatever context the body hands a step.
	runCtx context.Context

	mu       sync.Mutex
	lastSeq  int
	executed map[string]bool
	// done lists the steps replayed or checkpointed, in the order they
	// ended, for the run's completion record.
	done          []doneStep
	compensations []compensation
	// doomed is the error of the step after which the run cannot end well
	// (nondeterminism, a budget exceeded): no step begins after it, and the
	// attempt ends with it.
	doomed    error
	leaseLost bool
	// outputSchemas describe the output types of failed steps, by sequence
	// number, for the dead-letter entry a person may resolve.
	outputSchemas map[int]func() []byte
	// failures are the attempt's failed step executions, in the order they
	// failed: those the body handled are recorded with the attempt's
	// outcome, and named by a partial_completion reason.
	failures []store.StepFailure
	// children starts and reads child runs; nil refuses them.
	children Children
	// waits are the durable waits the attempt reached, when one doomed it.
	waits []store.WaitParams
	// capacityDue is when the rate-limit capacity of a step that doomed the
	// attempt is due: the run waits until then, holding no worker.
	capacityDue time.Time
	// outcomeTaken is set once the attempt's outcome took its loose spend:
	// late spend then goes to the store on its own.
	outcomeTaken bool
	// committed is what this attempt's checkpointed steps spent; loose is
	// what its failed steps spent, recorded with the attempt's outcome.
	committed, loose klaxontype.Spend
}

// compensation is the undo of one completed step, registered when the step
// completed or was replayed; its code holds the step's output.
type compensation struct {
	seq  int
	name string
	key  string
	code StepCode
}

func newExecution(run *klaxontype.Run, steps []*klaxontype.StepRecord, workflow *Definition, holder string, st store.Engine, onStep func(*klaxontype.StepOutcome), onSpend func(*klaxontype.SpendOutcome)) *Execution {
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

// withExecution returns a context carrying the execution for step calls.
func withExecution(ctx context.Context, e *Execution) context.Context {
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
	key := runID + "/" + strconv.Itoa(seq) + "/" + name
	if generation > 0 {
		key += "/g" + strconv.Itoa(generation)
	}
	return key
}

// Tracer is the worker's tracer, or nil.
func (e *Execution) Tracer() klaxontype.Tracer { return e.tracer }

// Classify gives an error its failure class, as the worker's classifier
// would for an attempt that failed with it.
func (e *Execution) Classify(err error) klaxontype.FailureClass {
	return e.classify(err).Class
}

func (e *Execution) classify(err error) classify.Result {
	if e.classifier == nil {
		return classify.Default().Classify(err)
	}
	return e.classifier.Classify(err)
}

// doomLocked marks the run as unable to end well, with the error it will end
// with; the first such error stands. Called with e.mu held.
func (e *Execution) doomLocked(err error) {
	if e.doomed == nil {
		e.doomed = err
	}
}

// doomCauseLocked is why the run can run no more steps, or nil: a step that
// doomed it (nondeterminism, a budget exceeded), a lost lease (a cancel is
// one), or the end of the attempt's context (the run's timeout, a shutdown).
// Called with e.mu held.
func (e *Execution) doomCauseLocked() error {
	switch {
	case e.doomed != nil:
		return e.doomed
	case e.leaseLost:
		return klaxontype.ErrLeaseLost
	case e.runCtx != nil:
		return context.Cause(e.runCtx)
	}
	return nil
}

// doomedBy is the error of the step that doomed the run, or nil; the attempt
// ends with it, whatever the body returned.
func (e *Execution) doomedBy() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.doomed
}

// spent is what the run has spent so far: its totals when the attempt began,
// plus this attempt's steps, completed or failed.
func (e *Execution) spent() klaxontype.Spend {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.run.Spend.Add(e.committed).Add(e.loose)
}

// addLooseSpend records what a failed step spent; it is written with the
// attempt's outcome.
func (e *Execution) addLooseSpend(spend klaxontype.Spend) {
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

// looseSpend is what this attempt spent outside checkpointed steps, taken
// for the attempt's outcome: spend reported later is recorded on its own.
func (e *Execution) looseSpend() klaxontype.Spend {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outcomeTaken = true
	return e.loose
}

// recordLateSpend records spend a step's function reported after the engine
// stopped waiting for it. It is real money: it goes with the attempt's
// outcome when that is not written yet, or on its own to the run and the
// attempt otherwise, and a spend.late event says it came late either way.
func (e *Execution) recordLateSpend(ctx context.Context, s *activeStep, spend klaxontype.Spend) {
	e.mu.Lock()
	counted := !e.outcomeTaken
	if counted {
		e.loose = e.loose.Add(spend)
	}
	e.mu.Unlock()
	err := e.store.SpendRecordLate(context.WithoutCancel(ctx), &store.SpendRecordLateParams{
		RunID: e.run.ID, Holder: e.holder, Attempt: e.run.Attempt, Seq: s.seq, Step: s.name, Spend: spend, Counted: counted,
	})
	if err != nil {
		logger := e.logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Error("recording spend reported after a step's deadline failed", "run", e.run.ID, "step", s.name, "error", err)
	}
}

// stepDone notes a step replayed or checkpointed, and registers its
// compensation.
func (e *Execution) stepDone(p *PendingStep) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.executed[p.call.Name] = true
	e.done = append(e.done, doneStep{seq: p.seq, name: p.call.Name})
	if p.call.Compensates {
		e.compensations = append(e.compensations, compensation{
			seq: p.seq, name: p.call.Name, key: p.key, code: p.call.Code,
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

// handledFailures are the attempt's step failures other than the one the
// attempt fails with, if it fails with a step's error: those the workflow
// body handled.
func (e *Execution) handledFailures(err error) []store.StepFailure {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.failures) == 0 {
		return nil
	}
	own := -1
	var stepErr *klaxontype.StepError
	if err != nil && errors.As(err, &stepErr) {
		for i := len(e.failures) - 1; i >= 0; i-- {
			if e.failures[i].Seq == stepErr.Seq {
				own = i
				break
			}
		}
	}
	handled := make([]store.StepFailure, 0, len(e.failures))
	for i, failure := range e.failures {
		if i != own {
			handled = append(handled, failure)
		}
	}
	return handled
}
