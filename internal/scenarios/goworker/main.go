// Command goworker is the Go interpreter of the scenario catalog: it registers
// every scenario as a workflow of the root package, on the database the klaxon
// server under test uses, and works its runs until it is signalled to stop.
// It prints "ready" once its workflows are registered and its worker runs.
//
// It may import only the standard library, the root package, klaxontype, llm,
// sqlite, postgres, store and internal/scenarios: it is a user's program, so it
// uses the public API only.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/scenarios"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "goworker:", err)
		os.Exit(1)
	}
}

func run() error {
	db := flag.String("db", "", "the database: a SQLite file or a postgres:// URL")
	catalogPath := flag.String("catalog", "", "the scenario catalog (scenarios.json)")
	effectsURL := flag.String("effects", "", "the effects server's URL")
	only := flag.String("only", "", "comma-separated scenarios to host (default: every scenario not needing a worker of its own)")
	lease := flag.Duration("lease", 2*time.Second, "lease duration")
	concurrency := flag.Int("concurrency", 32, "most runs at once")
	flag.Parse()

	catalog, err := scenarios.Load(*catalogPath)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	config := &klaxon.Config{
		Concurrency: *concurrency, LeaseDuration: *lease, PollInterval: 20 * time.Millisecond,
		ShutdownGrace: time.Second, DeliveryPollInterval: time.Hour,
	}
	client, err := klaxon.NewClient(st, config)
	if err != nil {
		return err
	}
	effects := &scenarios.EffectsClient{URL: *effectsURL}
	hosted := map[string]bool{}
	for _, name := range strings.Split(*only, ",") {
		if name != "" {
			hosted[name] = true
		}
	}
	for _, scenario := range catalog.Scenarios {
		if len(hosted) > 0 && !hosted[scenario.Name] || len(hosted) == 0 && scenario.Dedicated() {
			continue
		}
		if err := client.Register(workflow(scenario, effects)); err != nil {
			return fmt.Errorf("register %s: %w", scenario.Name, err)
		}
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	fmt.Println("ready")
	<-ctx.Done()
	return client.Stop(context.Background())
}

func openStore(ctx context.Context, db string) (store.Store, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return postgres.Open(ctx, db, nil)
	}
	return sqlite.Open(ctx, db, nil)
}

// workflow interprets a scenario's shape as a Go workflow.
func workflow(scenario *scenarios.Scenario, effects *scenarios.EffectsClient) *klaxon.Workflow[scenarios.Input, scenarios.Output] {
	var options []klaxon.WorkflowOption
	if len(scenario.ExpectSteps) > 0 {
		options = append(options, klaxon.ExpectSteps(scenario.ExpectSteps...))
	}
	if retry := scenario.Retry; retry != nil {
		policy := klaxontype.RetryPolicy{
			MaxAttempts:    retry.MaxAttempts,
			InitialBackoff: scenarios.Millis(retry.InitialBackoffMS), MaxBackoff: scenarios.Millis(retry.MaxBackoffMS),
			MaxRetryAfter: scenarios.Millis(retry.MaxRetryAfterMS),
		}
		if len(retry.Classes) > 0 {
			policy.Classes = map[klaxontype.FailureClass]int{}
			for class, attempts := range retry.Classes {
				policy.Classes[klaxontype.FailureClass(class)] = attempts
			}
		}
		options = append(options, klaxon.WithRetryPolicy(policy))
	}
	if budget := scenario.Budget; budget != nil {
		options = append(options, klaxon.WithBudget(klaxontype.Budget{Tokens: budget.Tokens, CostUSD: budget.USD}))
	}
	return klaxon.NewWorkflow(scenario.Name, func(ctx context.Context, input scenarios.Input) (scenarios.Output, error) {
		executions, err := effects.Hit(ctx, input.Key, "body")
		if err != nil {
			return scenarios.Output{}, err
		}
		output := scenarios.Output{Completed: []string{}}
		for _, step := range scenario.Steps {
			name := step.Name
			if step.RenamedOnLaterAttempt != "" && executions > 1 {
				name = step.RenamedOnLaterAttempt
			}
			var err error
			switch {
			case step.Child != nil:
				err = fanOut(ctx, name, step.Child, input.Key, &output)
			case step.Wait != nil:
				err = wait(ctx, name, step.Wait)
			default:
				_, err = klaxon.Step(ctx, name, stepFunction(step, name, input.Key, effects), stepOptions(step, name, input.Key, effects)...)
			}
			if err != nil {
				if step.Swallow {
					continue
				}
				return scenarios.Output{}, err
			}
			output.Completed = append(output.Completed, name)
			if step.ReturnAfter {
				break
			}
		}
		return output, nil
	}, options...)
}

// fanOut starts the step's children and awaits them all.
func fanOut(ctx context.Context, name string, child *scenarios.Child, key string, output *scenarios.Output) error {
	runs := make([]*klaxon.ChildRun[scenarios.Output], child.Count)
	for i := range runs {
		runs[i] = klaxon.StartChild[scenarios.Output](ctx, scenarios.ChildStep(name, i+1), child.Workflow, scenarios.Input{Key: scenarios.ChildKey(key, name, i+1)})
	}
	outputs, err := klaxon.AwaitChildren(ctx, runs...)
	if err != nil {
		return err
	}
	for i, out := range outputs {
		output.Completed = append(output.Completed, scenarios.ChildStep(name, i+1)+":"+strings.Join(out.Completed, "+"))
	}
	return nil
}

// wait is a durable wait of the body; its result is not used.
func wait(ctx context.Context, name string, w *scenarios.Wait) error {
	timeout := scenarios.Millis(w.MS)
	switch w.Kind {
	case "sleep":
		return klaxon.Sleep(ctx, name, timeout)
	case "signal":
		_, err := klaxon.WaitForSignal[json.RawMessage](ctx, name, klaxon.SignalTimeout(timeout))
		return err
	case "approval":
		_, err := klaxon.AwaitApproval(ctx, name, klaxon.ApprovalRequest{Title: w.Title, Timeout: timeout})
		return err
	}
	return fmt.Errorf("wait %s: unknown kind %q", name, w.Kind)
}

// stepFunction is what the step does on each execution.
func stepFunction(step *scenarios.Step, name, key string, effects *scenarios.EffectsClient) func(context.Context) (scenarios.StepOutput, error) {
	return func(ctx context.Context) (scenarios.StepOutput, error) {
		execution, err := effects.Hit(ctx, key, name)
		if err != nil {
			return scenarios.StepOutput{}, err
		}
		if step.Block.Applies(execution) {
			// Deaf to cancellation, like a call to an API that does not
			// take a context: a worker that lost the run finds out only
			// when the call returns.
			if err := effects.Block(context.WithoutCancel(ctx), key, name); err != nil {
				return scenarios.StepOutput{}, err
			}
		}
		if step.Sleep != nil && step.Sleep.Applies(execution) {
			time.Sleep(scenarios.Millis(step.Sleep.MS)) // past the timeout, deaf to it: the result comes late
		}
		if spend := step.Spend; spend != nil {
			usage := klaxontype.TokenUsage{InputTokens: spend.InputTokens, OutputTokens: spend.OutputTokens}
			klaxon.RecordSpend(ctx, klaxontype.Spend{Usage: usage, Cost: llm.DefaultPrices.Cost(spend.Model, usage), ModelCalls: 1})
		}
		if fail := step.Fail; fail != nil && fail.Applies(execution) {
			switch fail.Kind {
			case "panic":
				var missing map[string]int
				missing["boom"]++ // a programming error: assignment to a nil map panics
			case "error":
				return scenarios.StepOutput{}, errors.New(fail.Message)
			default:
				return scenarios.StepOutput{}, classified(fail)
			}
		}
		return scenarios.StepOutput{Value: step.Value, Execution: execution}, nil
	}
}

func stepOptions(step *scenarios.Step, name, key string, effects *scenarios.EffectsClient) []klaxon.StepOption {
	var options []klaxon.StepOption
	if step.TimeoutMS > 0 {
		options = append(options, klaxon.StepTimeout(scenarios.Millis(step.TimeoutMS)))
	}
	if reject := step.Validate; reject != nil {
		options = append(options, klaxon.Validate(func(output scenarios.StepOutput) error {
			if reject.Applies(output.Execution) {
				return klaxon.Semantic(errors.New(reject.Message))
			}
			return nil
		}))
	}
	if compensation := step.Compensate; compensation != nil {
		options = append(options, klaxon.Compensate(func(ctx context.Context, _ scenarios.StepOutput) error {
			if _, err := effects.Hit(ctx, key, name+".compensate"); err != nil {
				return err
			}
			if compensation.Fail {
				return errors.New(compensation.Message)
			}
			return nil
		}))
	}
	return options
}

// retryAfter is a rate limit that says when to come back.
type retryAfter struct {
	message string
	wait    time.Duration
}

func (e *retryAfter) Error() string             { return e.message }
func (e *retryAfter) RetryAfter() time.Duration { return e.wait }
func (e *retryAfter) Unwrap() error             { return nil }

var _ klaxontype.RetryAfterError = (*retryAfter)(nil)

// classified is a failure the code raises with its class.
func classified(fail *scenarios.Fail) error {
	var err error = errors.New(fail.Message)
	if fail.RetryAfterMS > 0 {
		err = &retryAfter{message: fail.Message, wait: scenarios.Millis(fail.RetryAfterMS)}
	}
	return klaxon.WithClass(klaxontype.FailureClass(fail.Class), err)
}
