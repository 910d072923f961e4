package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Options configure a demo. Zero values take the defaults noted.
type Options struct {
	// Runs is how many runs to enqueue; zero enqueues none and only finishes
	// what an earlier demo left.
	Runs int
	// Concurrency is how many runs are worked at once; default 16.
	Concurrency int
	// ExitWhenDone returns as soon as every demo run in the database is
	// terminal; otherwise the demo reports then keeps working until ctx ends.
	ExitWhenDone bool
	// NoWork only enqueues: no worker runs in this process, for a demo whose
	// runs are worked by other processes on a shared database. It returns
	// once the runs are enqueued, or with ExitWhenDone once every demo run
	// has ended.
	NoWork bool
	// Rates are the failure rates the fake model server injects, and the
	// rate at which the demo's client code panics.
	Rates FailureRates
	// Seed makes the simulated failures repeatable; zero picks one at random.
	Seed uint64
	// LLM is the model server to call; by default a fake one the demo starts.
	LLM LLM
	// LeaseDuration is how long a run claimed by a demo that was killed stays
	// unavailable; default 3s.
	LeaseDuration time.Duration
	// Progress receives a progress line each ProgressInterval (default 1s).
	Progress         io.Writer
	ProgressInterval time.Duration
	// OnAllDone is called once, when every demo run is terminal, if the demo
	// does not exit then.
	OnAllDone func(*Summary)
	Logger    *slog.Logger
	// Tracer, when set, gets the worker's spans (package tracing).
	Tracer klaxontype.Tracer
	// Instrument, when set, adds hooks to the worker's configuration before
	// the worker starts: the command installs its Prometheus metrics so.
	Instrument func(*klaxon.Config) error
	// StartWorkers, when set, starts the processes that work the runs in
	// place of this process's workers (Python workers over the worker
	// protocol, say), once the model server is up. Workers describes them
	// in the summary; stop is called before the summary is taken.
	StartWorkers func(ctx context.Context, model Model) (stop func() error, err error)
	Workers      string
}

// LLM says which model server the demo calls.
type LLM struct {
	// BaseURL is an OpenAI-compatible server's URL with its version prefix
	// ("https://api.openai.com/v1"); empty starts the built-in fake server on
	// a loopback port, which injects the failures of Rates.
	BaseURL string
	// Model is the model named in requests; required with BaseURL.
	Model string
	// APIKey is sent to BaseURL; empty leaves it to OPENAI_API_KEY.
	APIKey string
	// Timeout bounds each model call to BaseURL; default 30s. Calls to the
	// fake server time out after 250ms.
	Timeout time.Duration
}

// Summary is what a demo did and where its runs ended.
type Summary struct {
	WorkerID     string `json:"worker_id"`
	RunsEnqueued int    `json:"runs_enqueued"`
	// Runs counts every demo run in the database by status, including runs
	// earlier demos enqueued.
	Runs map[klaxontype.RunStatus]int `json:"runs"`
	// DeadLetters counts the open dead-letter entries of demo runs by failure
	// class: what is waiting for a person.
	DeadLetters map[klaxontype.FailureClass]int `json:"dead_letters"`
	// StepsExecuted counts step functions this process ran to completion.
	StepsExecuted int64 `json:"steps_executed"`
	// StepsFailed counts step functions this process ran that failed.
	StepsFailed int64 `json:"steps_failed"`
	// StepsReplayed counts steps skipped on resume: their output came from
	// the step log instead of running again.
	StepsReplayed int64 `json:"steps_replayed"`
	// Retries counts retries this process scheduled.
	Retries int64 `json:"retries"`
	// RunsCompletedHere and RunsDeadHere count the runs this process worked
	// to their end: with several worker processes on one database, what each
	// did.
	RunsCompletedHere int64 `json:"runs_completed_here"`
	RunsDeadHere      int64 `json:"runs_dead_here"`
	// Workers says who worked the runs when they were not this process's
	// workers ("python3 sdk/python/examples/document_pipeline.py").
	Workers string `json:"workers,omitempty"`
	// Model and Endpoint say what the model calls went to.
	Model    string `json:"model"`
	Endpoint string `json:"endpoint"`
	// Spend totals the model calls of every demo run in the database, failed
	// attempts included; its cost is "unknown" if any call was unpriced.
	Spend klaxontype.Spend `json:"spend"`
	// PerCompletedRun is what a completed run spent on average.
	PerCompletedRun RunAverage `json:"per_completed_run"`
	// Elapsed is how long the demo ran, in seconds.
	Elapsed float64 `json:"elapsed_seconds"`
	// Interrupted is true when the demo was stopped before every run ended.
	Interrupted bool `json:"interrupted"`
}

// Unfinished counts runs that are not terminal.
func (s *Summary) Unfinished() int {
	n := 0
	for status, count := range s.Runs {
		if !status.Terminal() {
			n += count
		}
	}
	return n
}

// counters are filled by the worker's hooks.
type counters struct {
	executed, failed, replayed, retries atomic.Int64
	// completed and dead count the runs this process worked to the end.
	completed, dead atomic.Int64
}

// Run enqueues the demo's runs, works every unfinished demo run in the store
// and returns a summary.
func Run(ctx context.Context, st store.Store, options Options) (*Summary, error) {
	if options.Concurrency <= 0 {
		options.Concurrency = 16
	}
	if options.LeaseDuration <= 0 {
		options.LeaseDuration = 3 * time.Second
	}
	if options.ProgressInterval <= 0 {
		options.ProgressInterval = time.Second
	}
	started := time.Now()
	var count counters
	model, endpoint, closeModel, err := connectModel(options)
	if err != nil {
		return nil, err
	}
	defer closeModel() // after the worker has stopped: no call is left in flight
	pipeline := NewPipeline(model)
	config := &klaxon.Config{
		Concurrency:   options.Concurrency,
		LeaseDuration: options.LeaseDuration,
		PollInterval:  100 * time.Millisecond,
		ShutdownGrace: 5 * time.Second,
		Logger:        options.Logger,
		Tracer:        options.Tracer,
		OnStep: func(o *klaxontype.StepOutcome) {
			switch {
			case o.Replayed:
				count.replayed.Add(1)
			case o.Err != nil:
				count.failed.Add(1)
			default:
				count.executed.Add(1)
			}
		},
		OnAttempt: func(o *klaxontype.AttemptOutcome) {
			switch o.Result {
			case klaxontype.AttemptRetrying:
				count.retries.Add(1)
			case klaxontype.AttemptCompleted:
				count.completed.Add(1)
			case klaxontype.AttemptDead:
				count.dead.Add(1)
			}
		},
	}
	if options.Instrument != nil {
		if err := options.Instrument(config); err != nil {
			return nil, err
		}
	}
	client, err := klaxon.NewClient(st, config)
	if err != nil {
		return nil, err
	}
	if err := client.Register(pipeline); err != nil {
		return nil, err
	}
	goWorkers := !options.NoWork && options.StartWorkers == nil
	if goWorkers {
		if err := client.Start(ctx); err != nil {
			return nil, err
		}
	}
	var stopWorkers func() error
	if options.StartWorkers != nil && !options.NoWork {
		if stopWorkers, err = options.StartWorkers(ctx, model); err != nil {
			return nil, err
		}
	}
	enqueued, enqueueErr := enqueue(ctx, client, pipeline, options.Runs)

	interrupted := enqueueErr != nil
	if !interrupted && (!options.NoWork || options.ExitWhenDone) {
		interrupted = watch(ctx, st, options)
	}
	if stopWorkers != nil {
		if err := stopWorkers(); err != nil {
			return nil, fmt.Errorf("stop workers: %w", err)
		}
	}
	if goWorkers {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := client.Stop(stopCtx); err != nil {
			return nil, fmt.Errorf("stop worker: %w", err)
		}
	}
	summary, err := summarize(context.WithoutCancel(ctx), st, client.WorkerID(), enqueued, &count, started)
	if err != nil {
		return nil, err
	}
	summary.Interrupted = interrupted && summary.Unfinished() > 0
	summary.Model, summary.Endpoint = model.Name, endpoint
	if options.StartWorkers != nil {
		summary.Workers = options.Workers
	}
	if enqueueErr != nil {
		return summary, fmt.Errorf("enqueue: %w", enqueueErr)
	}
	return summary, nil
}

// enqueue creates the demo's runs from a few goroutines, so the store
// group-commits them.
func enqueue(ctx context.Context, client *klaxon.Client, pipeline *klaxon.Workflow[Document, Record], runs int) (int, error) {
	batch := time.Now().UTC().Format("20060102T150405")
	var (
		next     atomic.Int64
		enqueued atomic.Int64
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range min(runs, 16) {
		wg.Go(func() {
			for {
				n := int(next.Add(1))
				if n > runs || ctx.Err() != nil {
					return
				}
				doc := SampleDocument(n)
				_, err := pipeline.Enqueue(ctx, client, doc,
					klaxon.WithEntity("document_id", doc.ID), klaxon.WithEntity("demo_batch", batch))
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				enqueued.Add(1)
			}
		})
	}
	wg.Wait()
	return int(enqueued.Load()), firstErr
}

// watch reports progress until every demo run is terminal (and the demo exits
// then) or ctx ends. It returns true when ctx ended first.
func watch(ctx context.Context, st store.Store, options Options) (interrupted bool) {
	ticker := time.NewTicker(options.ProgressInterval)
	defer ticker.Stop()
	reportedDone := false
	check := time.NewTicker(50 * time.Millisecond)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return true
		case <-ticker.C:
			if counts, err := st.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: WorkflowName}); err == nil && options.Progress != nil {
				fmt.Fprintln(options.Progress, progressLine(counts))
			}
		case <-check.C:
			counts, err := st.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: WorkflowName})
			if err != nil || reportedDone {
				continue
			}
			summary := &Summary{Runs: counts}
			if summary.Unfinished() > 0 {
				continue
			}
			if options.ExitWhenDone {
				return false
			}
			reportedDone = true
			if options.OnAllDone != nil {
				options.OnAllDone(summary)
			}
		}
	}
}

// progressLine renders run counts as "progress: 31/50 terminal (completed 29,
// dead 2) | running 8, retrying 3, pending 8".
func progressLine(counts map[klaxontype.RunStatus]int) string {
	total, terminal := 0, 0
	var done, open []string
	for _, status := range klaxontype.RunStatuses() {
		n := counts[status]
		total += n
		if n == 0 {
			continue
		}
		if status.Terminal() {
			terminal += n
			done = append(done, fmt.Sprintf("%s %d", status, n))
		} else {
			open = append(open, fmt.Sprintf("%s %d", status, n))
		}
	}
	line := fmt.Sprintf("progress: %d/%d runs terminal", terminal, total)
	if len(done) > 0 {
		line += " (" + strings.Join(done, ", ") + ")"
	}
	if len(open) > 0 {
		line += " | " + strings.Join(open, ", ")
	}
	return line
}

func summarize(ctx context.Context, st store.Store, workerID string, enqueued int, count *counters, started time.Time) (*Summary, error) {
	counts, err := st.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: WorkflowName})
	if err != nil {
		return nil, err
	}
	deadLetters := make(map[klaxontype.FailureClass]int)
	page := &store.DLQListParams{
		Workflow: WorkflowName, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}, Limit: 1000,
	}
	for {
		entries, err := st.DLQList(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, entry := range entries {
			deadLetters[entry.Class]++
		}
		if len(entries) < page.Limit {
			break
		}
		page.BeforeID = entries[len(entries)-1].ID
	}
	total, perCompleted, err := demoSpend(ctx, st)
	if err != nil {
		return nil, err
	}
	return &Summary{
		WorkerID: workerID, RunsEnqueued: enqueued, Runs: counts, DeadLetters: deadLetters,
		StepsExecuted: count.executed.Load(), StepsFailed: count.failed.Load(), StepsReplayed: count.replayed.Load(),
		Retries: count.retries.Load(), Elapsed: time.Since(started).Seconds(),
		RunsCompletedHere: count.completed.Load(), RunsDeadHere: count.dead.Load(),
		Spend: total, PerCompletedRun: perCompleted,
	}, nil
}

// WriteText prints a summary for a person.
func (s *Summary) WriteText(w io.Writer) {
	total := 0
	for _, n := range s.Runs {
		total += n
	}
	fmt.Fprintf(w, "Klaxon demo: %d runs enqueued now, %d demo runs in the database, %.1fs\n", s.RunsEnqueued, total, s.Elapsed)
	fmt.Fprintln(w, "  runs by status:")
	for _, status := range klaxontype.RunStatuses() {
		if n := s.Runs[status]; n > 0 {
			fmt.Fprintf(w, "    %-13s %d\n", status, n)
		}
	}
	if len(s.DeadLetters) > 0 {
		classes := make([]string, 0, len(s.DeadLetters))
		open := 0
		for class, n := range s.DeadLetters {
			classes = append(classes, string(class))
			open += n
		}
		sort.Strings(classes)
		fmt.Fprintf(w, "  dead-letter queue: %d open entries, by class:\n", open)
		for _, class := range classes {
			fmt.Fprintf(w, "    %-19s %d\n", class, s.DeadLetters[klaxontype.FailureClass(class)])
		}
		fmt.Fprintln(w, "    (klaxon dlq list to see them; klaxon dlq replay or resolve to act)")
	}
	if s.Workers != "" {
		// The step and retry counts come from this process's workers' hooks:
		// workers in another process have their own.
		fmt.Fprintf(w, "  worked by:       %s\n", s.Workers)
	} else {
		fmt.Fprintf(w, "  this process (%s) worked %d runs to completion and %d to the dead-letter queue\n",
			s.WorkerID, s.RunsCompletedHere, s.RunsDeadHere)
		fmt.Fprintf(w, "  steps executed:  %d (and %d step attempts failed)\n", s.StepsExecuted, s.StepsFailed)
		fmt.Fprintf(w, "  steps replayed:  %d (skipped on resume: output taken from the step log)\n", s.StepsReplayed)
		fmt.Fprintf(w, "  retries:         %d\n", s.Retries)
	}
	s.writeSpend(w)
	if s.Interrupted {
		fmt.Fprintf(w, "  interrupted with %d runs unfinished; run the demo again to finish them\n", s.Unfinished())
	}
}
