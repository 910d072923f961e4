package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/dbos-inc/dbos-transact-golang/dbos"
	_ "github.com/dbos-inc/dbos-transact-golang/dbos/driver/sqlite" // DBOS's SQLite support
)

// stepNames are the names of the five steps in every engine's 5-step
// workflow.
var stepNames = []string{"extract", "classify", "enrich", "transform", "store"}

// dbosFiveSteps is a DBOS workflow of five no-op steps. DBOS registers
// workflows by function name, so they are functions, not closures.
func dbosFiveSteps(ctx dbos.Context, n int) (int, error) {
	for _, name := range stepNames {
		var err error
		n, err = dbos.RunAsStep(ctx, func(context.Context) (int, error) { return n + 1, nil }, dbos.WithStepName(name))
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

// dbosOneStep is a DBOS workflow of one no-op step.
func dbosOneStep(ctx dbos.Context, n int) (int, error) {
	return dbos.RunAsStep(ctx, func(context.Context) (int, error) { return n + 1, nil }, dbos.WithStepName("noop"))
}

// dbosEngine starts each workflow with RunWorkflow, DBOS's ordinary way: the
// workflow's status is recorded, then it runs in this process at once, with
// no queue and no polling between.
type dbosEngine struct {
	ctx      dbos.Context
	workflow dbos.Workflow[int, int]
	tracker  *tracker
	sqliteDB *sql.DB
}

func openDBOS(ctx context.Context, p *place, steps int, t *tracker) (engine, error) {
	config := dbos.Config{
		AppName: "klaxon-bench",
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	e := &dbosEngine{workflow: dbosFiveSteps, tracker: t}
	if steps == 1 {
		e.workflow = dbosOneStep
	}
	switch {
	case p.backend.isPostgres():
		config.DatabaseURL = p.baseURL
		config.DatabaseSchema = p.schema
	case p.backend.synchronous == "NORMAL":
		// DBOS's own opener: WAL, synchronous=NORMAL, BEGIN IMMEDIATE, a
		// 5 s busy timeout, 8 connections.
		config.DatabaseURL = "sqlite:" + p.sqlitePath
	default:
		// DBOS fixes synchronous=NORMAL when it opens the file itself; for
		// FULL it gets a handle opened the same way but for that setting.
		db, err := sql.Open("sqlite", sqliteDSN(p.sqlitePath, p.backend.synchronous))
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(4)
		e.sqliteDB = db
		config.SQLiteSystemDB = db
	}
	dbosCtx, err := dbos.NewContext(ctx, config)
	if err != nil {
		e.closeDB()
		return nil, err
	}
	e.ctx = dbosCtx
	dbos.RegisterWorkflow(dbosCtx, e.workflow)
	if err := dbos.Launch(dbosCtx); err != nil {
		_ = e.close(ctx)
		return nil, err
	}
	return e, nil
}

func (e *dbosEngine) start(_ context.Context, i int) error {
	handle, err := dbos.RunWorkflow(e.ctx, e.workflow, i)
	if err != nil {
		return err
	}
	go func() {
		// GetResult of a workflow started here returns once its outcome is
		// recorded.
		if _, err := handle.GetResult(); err != nil {
			e.tracker.fail(fmt.Errorf("dbos workflow %d: %w", i, err))
			return
		}
		e.tracker.finish(i, time.Now())
	}()
	return nil
}

func (e *dbosEngine) close(context.Context) error {
	err := dbos.Shutdown(e.ctx, 10*time.Second)
	e.closeDB()
	return err
}

func (e *dbosEngine) closeDB() {
	if e.sqliteDB != nil {
		_ = e.sqliteDB.Close()
	}
}
