package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite" for River and DBOS
)

// River is configured the way its own benchmark command (`river bench`)
// configures it: a 2 ms fetch cooldown and a 20 ms poll interval, far shorter
// than the defaults, which it found to matter most for throughput.
const (
	riverFetchCooldown     = 2 * time.Millisecond
	riverFetchPollInterval = 20 * time.Millisecond
)

// chainArgs is the one job kind: job Step of a chain of Of jobs belonging to
// workflow number Workflow. A job that is not the last enqueues the next one.
type chainArgs struct {
	Workflow int `json:"w"`
	Step     int `json:"s"`
	Of       int `json:"n"`
}

func (chainArgs) Kind() string { return "bench_noop" }

// txBeginner opens a transaction of the driver's type for a worker.
type txBeginner[TTx any] func(ctx context.Context) (tx TTx, commit, rollback func(context.Context) error, err error)

// chainWorker does nothing for a single job; in a chain it inserts the next
// job and completes its own in one transaction, as River's documentation
// recommends for jobs that enqueue jobs (JobCompleteTx).
type chainWorker[TTx any] struct {
	river.WorkerDefaults[chainArgs]
	begin    txBeginner[TTx]
	complete func(ctx context.Context, tx TTx, job *river.Job[chainArgs]) error
}

func (w *chainWorker[TTx]) Work(ctx context.Context, job *river.Job[chainArgs]) error {
	if job.Args.Step >= job.Args.Of {
		return nil
	}
	tx, commit, rollback, err := w.begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = rollback(ctx) }()
	next := chainArgs{Workflow: job.Args.Workflow, Step: job.Args.Step + 1, Of: job.Args.Of}
	if _, err := river.ClientFromContext[TTx](ctx).InsertTx(ctx, tx, next, nil); err != nil {
		return err
	}
	if err := w.complete(ctx, tx, job); err != nil {
		return err
	}
	return commit(ctx)
}

// riverEngine is one River client that inserts the first job of each
// workflow and works all of them.
type riverEngine[TTx any] struct {
	client      *river.Client[TTx]
	steps       int
	unsubscribe func()
	observed    chan struct{}
	closeDB     func()
}

func openRiver(ctx context.Context, p *place, steps, workers, poolSize, runs int, t *tracker) (engine, error) {
	if p.backend.isPostgres() {
		poolURL, err := withPoolSize(p.postgresURL, poolSize)
		if err != nil {
			return nil, err
		}
		pool, err := pgxpool.New(ctx, poolURL)
		if err != nil {
			return nil, err
		}
		begin := func(ctx context.Context) (pgx.Tx, func(context.Context) error, func(context.Context) error, error) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				return nil, nil, nil, err
			}
			return tx, tx.Commit, tx.Rollback, nil
		}
		complete := func(ctx context.Context, tx pgx.Tx, job *river.Job[chainArgs]) error {
			_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
			return err
		}
		return startRiver(ctx, riverpgxv5.New(pool), begin, complete, pool.Close, steps, workers, runs, t)
	}

	db, err := sql.Open("sqlite", sqliteDSN(p.sqlitePath, p.backend.synchronous))
	if err != nil {
		return nil, err
	}
	// riversqlite's documentation: River runs many operations in parallel
	// and SQLite allows one writer, so give it one connection.
	db.SetMaxOpenConns(1)
	begin := func(ctx context.Context) (*sql.Tx, func(context.Context) error, func(context.Context) error, error) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		return tx, func(context.Context) error { return tx.Commit() }, func(context.Context) error { return tx.Rollback() }, nil
	}
	complete := func(ctx context.Context, tx *sql.Tx, job *river.Job[chainArgs]) error {
		_, err := river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job)
		return err
	}
	return startRiver(ctx, riversqlite.New(db), begin, complete, func() { _ = db.Close() }, steps, workers, runs, t)
}

func startRiver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], begin txBeginner[TTx],
	complete func(context.Context, TTx, *river.Job[chainArgs]) error, closeDB func(),
	steps, workers, runs int, t *tracker,
) (engine, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: logger})
	if err != nil {
		closeDB()
		return nil, err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		closeDB()
		return nil, fmt.Errorf("river migrate: %w", err)
	}
	workersBundle := river.NewWorkers()
	river.AddWorker(workersBundle, &chainWorker[TTx]{begin: begin, complete: complete})
	client, err := river.NewClient(driver, &river.Config{
		FetchCooldown:     riverFetchCooldown,
		FetchPollInterval: riverFetchPollInterval,
		Logger:            logger,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers:           workersBundle,
	})
	if err != nil {
		closeDB()
		return nil, err
	}
	// As `river bench` does, completions are counted from the subscription,
	// which reports a job once its completion is committed; the channel is
	// large enough that no event is dropped.
	events, unsubscribe := client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: runs*steps + 1024,
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled},
	})
	e := &riverEngine[TTx]{client: client, steps: steps, unsubscribe: unsubscribe, observed: make(chan struct{}), closeDB: closeDB}
	go e.observe(events, t)
	if err := client.Start(ctx); err != nil {
		_ = e.close(ctx)
		return nil, err
	}
	return e, nil
}

func (e *riverEngine[TTx]) observe(events <-chan *river.Event, t *tracker) {
	defer close(e.observed)
	for event := range events {
		at := time.Now()
		if event.Kind != river.EventKindJobCompleted {
			t.fail(fmt.Errorf("river job %d: %s: %v", event.Job.ID, event.Kind, event.Job.Errors))
			continue
		}
		var args chainArgs
		if err := json.Unmarshal(event.Job.EncodedArgs, &args); err != nil {
			t.fail(err)
			continue
		}
		if args.Step == args.Of {
			t.finish(args.Workflow, at)
		}
	}
}

func (e *riverEngine[TTx]) start(ctx context.Context, i int) error {
	_, err := e.client.Insert(ctx, chainArgs{Workflow: i, Step: 1, Of: e.steps}, nil)
	return err
}

func (e *riverEngine[TTx]) close(ctx context.Context) error {
	err := e.client.Stop(ctx)
	e.unsubscribe()
	<-e.observed
	e.closeDB()
	return err
}
