package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/cmd/klaxon/demo"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/tracing"
)

func (m *Main) demoCommand() *cobra.Command {
	var (
		options   demo.Options
		asJSON    bool
		verbose   bool
		noEnqueue bool
		addr      string
		noServer  bool
		workers   string
	)
	options.Rates = demo.DefaultFailureRates
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the document-processing demo on a local database",
		Long: `Run the demo: a document-processing workflow (extract, classify, enrich, transform,
store) whose classify and enrich steps call a model through the OpenAI adapter. By default
the model is a fake OpenAI-compatible server that the demo starts on a loopback port and
that fails the way real ones do — provider errors (HTTP 500), rate limits (429 with
Retry-After), answers slower than the step timeout, made-up answers that fail the step's
validator — and refuses documents too long for its context window or caught by its content
filter; the demo's own client code panics now and then. Every 50th document makes enrich an
agent that calls a catalogue tool and never stops: the run's token budget stops it. The
demo enqueues --runs runs, works them with a pool of workers, shows progress, and prints
where every run ended: completed with all five steps, or dead with its failure class, the
open entries of the dead-letter queue by class, and the tokens and cost of the model calls.

With --llm-base-url and --model the same pipeline calls a real OpenAI-compatible endpoint
instead, with the API key from OPENAI_API_KEY; the --*-rate flags other than --panic-rate
then have nothing to inject into.

Run again on the same database, the demo first finishes whatever an earlier demo left
unfinished, including runs of a demo killed in the middle: their leases expire after a few
seconds and their completed steps are replayed from the step log, not run again.

While it runs, the demo serves Klaxon's HTTP API over the same database on --addr
(default 127.0.0.1:7070), as klaxon server would, and prints its URL: list the runs at
/api/v1/runs, the dead-letter queue at /api/v1/dlq. The server has no access tokens, so it
listens on this machine only; the dashboard is at its root, and it evaluates the built-in
alert rules every 30s (klaxon alerts lists what they raise). It stops when the demo ends;
--no-server does without it. If the address is taken the demo stops at once, before
enqueuing anything.

On PostgreSQL (--db postgres://…) several processes, on one machine or many, can share the
work: start workers with --no-enqueue and one more process with --no-work that only
enqueues. Each process prints what it worked; a worker that is killed leaves its runs to
the others once its leases expire. Only one process on a machine can have the server on
an address: give the others --no-server or an --addr of their own.

With --workers python the runs are worked by the same pipeline written in Python,
sdk/python/examples/document_pipeline.py, which the demo starts with python3 (or
$KLAXON_PYTHON) and the checkout's sdk/python on PYTHONPATH, so nothing needs installing;
it works the runs over the demo's HTTP API (the worker protocol) and calls the same fake
model server. It registers the same workflow (name, version, steps, retries, budget) as the
Go pipeline, so either language can finish runs the other began.

With OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
OTEL_TRACES_EXPORTER=otlp) set, the workers export OpenTelemetry traces over OTLP/HTTP: a
span per attempt, per step and per model and tool call, flushed before the demo exits.
OTEL_SERVICE_NAME names the service (default klaxon).`,
		Example: `  klaxon demo --exit-when-done
  klaxon demo --runs 0 --exit-when-done     # only finish what an earlier demo left
  go run ./cmd/klaxon demo --workers python --exit-when-done   # the same pipeline in Python
  klaxon demo --runs 500 --json --exit-when-done
  klaxon demo --addr 127.0.0.1:8080      # the HTTP API on another port
  klaxon demo --db postgres://localhost/klaxon --no-enqueue --no-server   # a worker; start several
  klaxon demo --db postgres://localhost/klaxon --no-work --runs 1000 --exit-when-done
  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 klaxon demo --exit-when-done
  OPENAI_API_KEY=sk-... klaxon demo --llm-base-url https://api.openai.com/v1 --model gpt-4o-mini --runs 5 --exit-when-done`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The Python worker process writes to stderr too: every writer
			// of the demo's takes the same lock.
			var stderrLock sync.Mutex
			stderr := &syncWriter{w: m.Stderr, mu: &stderrLock}
			if options.Runs < 0 {
				return &usageError{fmt.Errorf("--runs must be 0 or more, not %d", options.Runs)}
			}
			if noEnqueue && options.NoWork {
				return &usageError{fmt.Errorf("--no-enqueue and --no-work together leave nothing to do")}
			}
			if noEnqueue {
				if cmd.Flags().Changed("runs") && options.Runs > 0 {
					return &usageError{fmt.Errorf("--no-enqueue enqueues nothing: drop --runs %d", options.Runs)}
				}
				options.Runs = 0
			}
			for name, rate := range map[string]float64{"--error-rate": options.Rates.Error, "--slow-rate": options.Rates.Slow,
				"--wrong-rate": options.Rates.Wrong, "--panic-rate": options.Rates.Panic, "--rate-limit-rate": options.Rates.RateLimit} {
				if rate < 0 || rate > 1 {
					return &usageError{fmt.Errorf("%s must be between 0 and 1, not %g", name, rate)}
				}
			}
			if options.Rates.Sum() > 1 {
				return &usageError{fmt.Errorf("the failure rates add up to more than 1")}
			}
			switch workers {
			case "go":
			case "python":
				if noServer {
					return &usageError{fmt.Errorf("--workers python works the runs over the demo's HTTP API: drop --no-server")}
				}
				if options.NoWork {
					return &usageError{fmt.Errorf("--no-work starts no workers: drop --workers python")}
				}
			default:
				return &usageError{fmt.Errorf("--workers is go or python, not %q", workers)}
			}
			if noServer && cmd.Flags().Changed("addr") {
				return &usageError{fmt.Errorf("--no-server serves nothing: drop --addr %s", addr)}
			}
			if !noServer {
				if err := checkDemoAddr(addr); err != nil {
					return &usageError{err}
				}
			}
			switch {
			case options.LLM.BaseURL != "" && options.LLM.Model == "":
				return &usageError{fmt.Errorf("--llm-base-url needs --model: the model to ask at %s", options.LLM.BaseURL)}
			case options.LLM.BaseURL == "" && options.LLM.Model != "":
				return &usageError{fmt.Errorf("--model needs --llm-base-url: the built-in fake server answers as %s", demo.FakeModelName)}
			case options.LLM.BaseURL != "":
				if u, err := url.Parse(options.LLM.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return &usageError{fmt.Errorf("--llm-base-url %q is not an http(s) URL such as https://api.openai.com/v1", options.LLM.BaseURL)}
				}
				options.LLM.APIKey = m.Getenv("OPENAI_API_KEY")
			}
			var python *pythonWorkers
			if workers == "python" {
				// Found before the database is opened: a missing python3 or
				// SDK stops the demo with nothing done.
				var err error
				if python, err = findPythonWorkers(cmd.Context(), m.Getenv); err != nil {
					return err
				}
			}
			st, err := openStore(cmd.Context(), m.dbURL, openToWrite)
			if err != nil {
				return err
			}
			defer st.Close()
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelDebug
			}
			options.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
			options.Progress = stderr
			options.OnAllDone = func(s *demo.Summary) {
				fmt.Fprintln(stderr, "every demo run has ended; still working new runs: Ctrl-C to stop")
			}
			tracer, shutdownTracing, err := tracing.FromEnvironment(cmd.Context())
			if err != nil {
				return &usageError{err}
			}
			options.Tracer = tracer
			defer func() {
				// Flush the spans of the last runs before the process exits.
				ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), 5*time.Second)
				defer cancel()
				if err := shutdownTracing(ctx); err != nil {
					fmt.Fprintf(stderr, "klaxon demo: exporting traces failed: %v\n", err)
				}
			}()
			// Bound before anything is said or enqueued, so that a taken
			// address stops the demo with nothing done.
			// The demo's workers report on the same /metrics as the store's
			// counts: tokens, cost, steps and attempts by workflow.
			registry := prometheus.NewRegistry()
			options.Instrument = func(config *klaxon.Config) error {
				_, err := metrics.Instrument(config, registry)
				return err
			}
			var server *demoServer
			if !noServer {
				if server, err = startDemoServer(cmd.Context(), st, addr, registry, options.Logger); err != nil {
					return err
				}
			}
			switch {
			case options.NoWork:
				fmt.Fprintf(stderr, "klaxon demo: database %s, %d new runs, worked by other processes\n", st.Name(), options.Runs)
			default:
				fmt.Fprintf(stderr, "klaxon demo: database %s, %d new runs, %d at a time\n", st.Name(), options.Runs, options.Concurrency)
			}
			if server != nil {
				server.announce(stderr)
			}
			if tracer != nil {
				fmt.Fprintln(stderr, "traces: exported over OTLP/HTTP as the OTEL_* environment variables say")
			}
			runCtx, cancelRun := context.WithCancel(cmd.Context())
			defer cancelRun()
			var workersErr atomic.Pointer[error]
			if python != nil {
				options.Workers = python.describe()
				options.StartWorkers = func(_ context.Context, model demo.Model) (func() error, error) {
					fmt.Fprintf(stderr, "klaxon demo: runs worked by %s\n", options.Workers)
					return python.start(server.URL, model, options, m.Stderr, &stderrLock, func(err error) {
						workersErr.Store(&err)
						cancelRun()
					})
				}
			}
			summary, err := demo.Run(runCtx, st, options)
			if stopped := workersErr.Load(); stopped != nil && err == nil {
				err = *stopped
			}
			if server != nil {
				if stopErr := server.Stop(); stopErr != nil && err == nil {
					err = fmt.Errorf("the demo's HTTP API: %w", stopErr)
				}
			}
			if summary != nil {
				if asJSON {
					if err := writeJSON(m.Stdout, summary); err != nil {
						return err
					}
				} else {
					summary.WriteText(m.Stdout)
				}
			}
			return err
		},
	}
	flags := cmd.Flags()
	flags.IntVar(&options.Runs, "runs", 50, "runs to enqueue (0: only finish what earlier demos left)")
	flags.IntVar(&options.Concurrency, "concurrency", 16, "runs worked at once")
	flags.BoolVar(&options.ExitWhenDone, "exit-when-done", false, "exit when every demo run in the database has ended")
	flags.BoolVar(&noEnqueue, "no-enqueue", false, "only work runs that other processes enqueue (with a shared PostgreSQL database)")
	flags.BoolVar(&options.NoWork, "no-work", false, "only enqueue; other processes work the runs (with a shared PostgreSQL database)")
	flags.StringVar(&addr, "addr", defaultDemoAddr, "address to serve the HTTP API on while the demo runs; this machine only (127.0.0.1:0 picks a free port)")
	flags.BoolVar(&noServer, "no-server", false, "do not serve the HTTP API")
	flags.StringVar(&workers, "workers", "go", "who works the runs: go (this process) or python (sdk/python/examples/document_pipeline.py over the HTTP API; needs python3 and a checkout)")
	flags.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	flags.BoolVarP(&verbose, "verbose", "v", false, "log every attempt")
	flags.Uint64Var(&options.Seed, "seed", 0, "seed of the simulated failures (0: random)")
	flags.StringVar(&options.LLM.BaseURL, "llm-base-url", "", "an OpenAI-compatible endpoint to call instead of the built-in fake server (key from OPENAI_API_KEY)")
	flags.StringVar(&options.LLM.Model, "model", "", "the model to ask at --llm-base-url")
	flags.Float64Var(&options.Rates.Error, "error-rate", options.Rates.Error, "chance a model call fails with a provider error (HTTP 500)")
	flags.Float64Var(&options.Rates.RateLimit, "rate-limit-rate", options.Rates.RateLimit, "chance a model call is rate limited (429 with Retry-After)")
	flags.Float64Var(&options.Rates.Slow, "slow-rate", options.Rates.Slow, "chance a model call answers after the step timeout")
	flags.Float64Var(&options.Rates.Wrong, "wrong-rate", options.Rates.Wrong, "chance a model call makes up a product SKU that its step's validator rejects")
	flags.Float64Var(&options.Rates.Panic, "panic-rate", options.Rates.Panic, "chance the demo's model client code panics")
	return cmd
}
