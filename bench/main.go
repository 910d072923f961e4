// Command bench runs Klaxon and its peers, River and DBOS Transact, side by
// side on the same PostgreSQL server and the same SQLite settings, and prints
// their throughput and latency from enqueue to completion.
//
// It is a module of its own so that Klaxon never depends on its peers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func main() {
	// On a signal the scenario under way fails, its engine stops and its
	// schema or file is removed before the command exits.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	postgresURL := os.Getenv("KLAXON_BENCH_POSTGRES_URL")
	if postgresURL == "" {
		postgresURL = defaultPostgresURL
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var (
		set      settings
		reps     = fs.Int("reps", 3, "repetitions of every scenario; the table shows the median")
		only     = fs.String("only", "", "run only the scenarios whose name matches this regular expression")
		asJSON   = fs.Bool("json", false, "print the results as JSON instead of a table")
		list     = fs.Bool("list", false, "list the scenarios and exit")
		inflight = fs.Int("inflight", 0, "workflows outstanding at once, for every engine (default: --concurrency)")
	)
	fs.StringVar(&set.postgresURL, "postgres", postgresURL, "PostgreSQL URL (default from KLAXON_BENCH_POSTGRES_URL)")
	fs.IntVar(&set.load.runs, "runs", 20000, "workflows per scenario and repetition")
	fs.IntVar(&set.concurrency, "concurrency", 256, "Klaxon's concurrent runs")
	fs.IntVar(&set.riverWorkers, "river-workers", 100, "River's workers (MaxWorkers of its queue)")
	fs.IntVar(&set.riverPool, "river-pool", 32, "River's pgx pool size on PostgreSQL, unless the URL sets pool_max_conns")
	fs.DurationVar(&set.load.timeLimit, "time-limit", 8*time.Second, "stop starting workflows after this long in one repetition")
	fs.DurationVar(&set.load.drain, "drain", 2*time.Minute, "how long the last workflows may take to complete")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	set.load.inflight = *inflight
	if set.load.inflight <= 0 {
		set.load.inflight = set.concurrency
	}
	if set.load.runs <= 0 || *reps <= 0 || set.concurrency <= 0 {
		return errors.New("--runs, --reps and --concurrency must be positive")
	}
	selected, err := selectScenarios(*only)
	if err != nil {
		return err
	}
	if *list {
		for _, s := range selected {
			fmt.Println(s.name)
		}
		return nil
	}

	r := &report{
		Command:     "go run . " + strings.Join(args, " "),
		Runs:        set.load.runs,
		Reps:        *reps,
		Inflight:    set.load.inflight,
		Concurrency: set.concurrency,
		River: fmt.Sprintf("FetchCooldown %s, FetchPollInterval %s, %d workers, pgx pool %d",
			riverFetchCooldown, riverFetchPollInterval, set.riverWorkers, set.riverPool),
		Versions: dependencyVersions(),
	}
	for _, s := range selected {
		if s.backend.isPostgres() && r.Postgres == "" {
			if r.Postgres, err = postgresSettings(ctx, set.postgresURL); err != nil {
				return err
			}
		}
	}
	results := make([]*result, len(selected))
	for i, s := range selected {
		results[i] = &result{Scenario: s.name, Engine: s.engine, Steps: s.steps, Backend: s.backend.name,
			Durability: s.durability(r.Postgres), group: s.group()}
	}
	r.Results = results

	// Repetition-major order (A B C A B C …), so drift in the machine's speed
	// touches every scenario alike.
	failed := false
	for rep := 1; rep <= *reps; rep++ {
		for i, s := range selected {
			res := results[i]
			if ctx.Err() != nil {
				continue
			}
			fmt.Fprintf(os.Stderr, "rep %d/%d  [%2d/%d] %s\n", rep, *reps, i+1, len(selected), s.name)
			began := time.Now()
			m, err := runScenario(ctx, s, rep, &set)
			switch {
			case err != nil:
				failed = true
				res.Error = err.Error()
				fmt.Fprintln(os.Stderr, "    FAILED:", err)
			default:
				res.Reps = append(res.Reps, m)
				fmt.Fprintf(os.Stderr, "    %d workflows  %s steps/s  %s workflows/s  p50 %s  p99 %s  (%.1f s)\n",
					m.Workflows, thousands(m.StepsPS), thousands(m.WorkflowsPS),
					milliseconds(m.P50), milliseconds(m.P99), time.Since(began).Seconds())
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.finish()
	if *asJSON {
		err = r.writeJSON(os.Stdout)
	} else {
		err = r.writeTable(os.Stdout)
	}
	if err == nil && failed {
		err = errors.New("some scenarios failed")
	}
	return err
}

func selectScenarios(only string) ([]scenario, error) {
	pattern, err := regexp.Compile(only)
	if err != nil {
		return nil, fmt.Errorf("--only: %w", err)
	}
	var selected []scenario
	for _, s := range scenarios() {
		if pattern.MatchString(s.name) {
			selected = append(selected, s)
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("--only %q matches no scenario", only)
	}
	return selected, nil
}
