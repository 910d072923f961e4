package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// fiveStepNoop is the workflow of the engine's own BenchmarkPipeline: five
// checkpointed steps that do nothing, so what is measured is the engine and
// its store.
var fiveStepNoop = klaxon.NewWorkflow("bench-5-step", func(ctx context.Context, n int) (int, error) {
	for _, name := range stepNames {
		var err error
		n, err = klaxon.Step(ctx, name, func(context.Context) (int, error) { return n + 1, nil })
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}, klaxon.ExpectSteps(stepNames...))

// oneStepNoop is a workflow of one checkpointed no-op step: the nearest
// thing to a single job.
var oneStepNoop = klaxon.NewWorkflow("bench-1-step", func(ctx context.Context, n int) (int, error) {
	return klaxon.Step(ctx, "noop", func(context.Context) (int, error) { return n + 1, nil })
}, klaxon.ExpectSteps("noop"))

// klaxonEngine runs one Klaxon client, which both enqueues and works the
// runs, so an enqueue wakes its worker at once.
type klaxonEngine struct {
	store    store.Store
	client   *klaxon.Client
	workflow *klaxon.Workflow[int, int]
	tracker  *tracker

	// A run can complete before its Enqueue call has returned its ID, so
	// completions and IDs meet here, whichever comes first.
	mu      sync.Mutex
	indexOf map[string]int       // run ID → workflow number, until it completes
	early   map[string]time.Time // run ID → completion seen before its ID
}

func openKlaxon(ctx context.Context, p *place, steps, concurrency int, t *tracker) (engine, error) {
	st, err := openKlaxonStore(ctx, p)
	if err != nil {
		return nil, err
	}
	e := &klaxonEngine{
		store:    st,
		workflow: fiveStepNoop,
		tracker:  t,
		indexOf:  make(map[string]int),
		early:    make(map[string]time.Time),
	}
	if steps == 1 {
		e.workflow = oneStepNoop
	}
	e.client, err = klaxon.NewClient(st, &klaxon.Config{
		Concurrency:  concurrency,
		PollInterval: 5 * time.Millisecond,
		OnAttempt:    e.attemptEnded,
	})
	if err == nil {
		err = e.client.Register(e.workflow)
	}
	if err == nil {
		err = e.client.Start(ctx)
	}
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	return e, nil
}

// openKlaxonStore opens Klaxon's store for the place: SQLite with the
// backend's synchronous setting, or PostgreSQL in the place's schema.
func openKlaxonStore(ctx context.Context, p *place) (store.Store, error) {
	if p.backend.isPostgres() {
		return openKlaxonPostgres(ctx, p.postgresURL)
	}
	return sqlite.Open(ctx, p.sqlitePath, &sqlite.Options{Synchronous: p.backend.synchronous})
}

func (e *klaxonEngine) start(ctx context.Context, i int) error {
	result, err := e.workflow.Enqueue(ctx, e.client, i)
	if err != nil {
		return err
	}
	id := result.Run.ID
	e.mu.Lock()
	at, done := e.early[id]
	if done {
		delete(e.early, id)
	} else {
		e.indexOf[id] = i
	}
	e.mu.Unlock()
	if done {
		e.tracker.finish(i, at)
	}
	return nil
}

func (e *klaxonEngine) attemptEnded(o *klaxontype.AttemptOutcome) {
	if o.Result != klaxontype.AttemptCompleted {
		e.tracker.fail(fmt.Errorf("run %s: attempt %s (%s): %v", o.RunID, o.Result, o.Class, o.Err))
		return
	}
	at := time.Now()
	e.mu.Lock()
	i, known := e.indexOf[o.RunID]
	if known {
		delete(e.indexOf, o.RunID)
	} else {
		e.early[o.RunID] = at
	}
	e.mu.Unlock()
	if known {
		e.tracker.finish(i, at)
	}
}

func (e *klaxonEngine) close(ctx context.Context) error {
	stopErr := e.client.Stop(ctx)
	closeErr := e.store.Close()
	if stopErr != nil {
		return stopErr
	}
	return closeErr
}
