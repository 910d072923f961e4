package main

import (
	"context"
	"fmt"
	"time"
)

// scenario is one engine running one shape of workflow on one backend.
type scenario struct {
	// name is "<engine>-<shape>-<backend>", e.g. "river-5chain-pg".
	name    string
	engine  string // "klaxon", "river" or "dbos"
	steps   int    // no-op steps (River: chained jobs) per workflow
	backend backend
}

// scenarios lists every scenario, comparable ones next to each other so that
// a repetition runs them back to back.
func scenarios() []scenario {
	var all []scenario
	for _, b := range []backend{postgresBackend, sqliteFullBackend, sqliteNormalBackend} {
		for _, steps := range []int{5, 1} {
			for _, engine := range []string{"klaxon", "river", "dbos"} {
				all = append(all, scenario{
					name:    fmt.Sprintf("%s-%s-%s", engine, shapeName(engine, steps), b.name),
					engine:  engine,
					steps:   steps,
					backend: b,
				})
			}
		}
	}
	return all
}

// shapeName says what a workflow is in the engine's own terms: River has
// jobs, and its nearest thing to five steps is a chain of five jobs.
func shapeName(engine string, steps int) string {
	switch {
	case engine == "river" && steps == 1:
		return "1job"
	case engine == "river":
		return fmt.Sprintf("%dchain", steps)
	default:
		return fmt.Sprintf("%dstep", steps)
	}
}

// group names the scenarios that do the same work on the same backend, whose
// figures are compared.
func (s scenario) group() string { return fmt.Sprintf("%d-%s", s.steps, s.backend.name) }

// settings are the knobs of the engines under test.
type settings struct {
	postgresURL  string
	concurrency  int // Klaxon's concurrent runs
	riverWorkers int
	riverPool    int
	load         loadSettings
}

func (s scenario) open(ctx context.Context, p *place, set *settings, t *tracker) (engine, error) {
	switch s.engine {
	case "klaxon":
		return openKlaxon(ctx, p, s.steps, set.concurrency, t)
	case "river":
		return openRiver(ctx, p, s.steps, set.riverWorkers, set.riverPool, set.load.runs, t)
	case "dbos":
		return openDBOS(ctx, p, s.steps, t)
	}
	return nil, fmt.Errorf("unknown engine %q", s.engine)
}

// durability says what an acknowledged completion survives, per engine and
// backend, for the report.
func (s scenario) durability(postgres string) string {
	if s.backend.isPostgres() {
		return postgres
	}
	setting := "WAL, synchronous=" + s.backend.synchronous
	switch {
	case s.engine == "river":
		return setting + ", one connection (riversqlite's advice)"
	case s.engine == "dbos" && s.backend.synchronous == "NORMAL":
		return setting + " (DBOS's own setting)"
	case s.engine == "dbos":
		return setting + " (a handle opened like DBOS's own, but FULL)"
	}
	return setting
}

// closeTimeout bounds how long an engine may take to stop.
const closeTimeout = 30 * time.Second

// runScenario runs one repetition of one scenario in a fresh schema or file.
func runScenario(ctx context.Context, s scenario, rep int, set *settings) (*measurement, error) {
	p, cleanup, err := preparePlace(ctx, s.backend, set.postgresURL, s.name, rep)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	t := newTracker(set.load.runs, set.load.inflight)
	e, err := s.open(ctx, p, set, t)
	if err != nil {
		return nil, err
	}
	m, err := drive(ctx, e, t, s.steps, set.load)
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	closeErr := e.close(closeCtx)
	if err != nil {
		return nil, err
	}
	if closeErr != nil {
		return nil, fmt.Errorf("close: %w", closeErr)
	}
	return m, nil
}
