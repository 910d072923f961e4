package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "demo.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// runAgainst runs the demo against the given model server, without random
// failures.
func runAgainst(t *testing.T, st store.Store, fake *FakeLLM, runs int) *Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	summary, err := Run(ctx, st, Options{
		Runs: runs, ExitWhenDone: true, Seed: 1,
		LLM: LLM{BaseURL: fake.BaseURL(), Model: FakeModelName, APIKey: fakeAPIKey, Timeout: fakeStepTimeout},
	})
	if err != nil {
		t.Fatal(err)
	}
	return summary
}

func findRun(t *testing.T, st store.Store, documentID string) *klaxontype.Run {
	t.Helper()
	runs, err := st.RunList(context.Background(), &store.RunListParams{Workflow: WorkflowName, Entities: map[string]string{"document_id": documentID}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs of %s: %v, %v", documentID, runs, err)
	}
	return runs[0]
}

// timedOutAttempts counts the failed attempts of demo runs whose class is
// timeout: each abandoned a model call the server may have received.
func timedOutAttempts(t *testing.T, st store.Store) int {
	t.Helper()
	runs, err := st.RunList(context.Background(), &store.RunListParams{Workflow: WorkflowName, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, run := range runs {
		attempts, err := st.AttemptList(context.Background(), run.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range attempts {
			if a.Class == klaxontype.ClassTimeout {
				n++
			}
		}
	}
	return n
}

// A retry replays the model calls that succeeded from the step log: the
// model server hears each question once.
func TestRetryReplaysModelCallsWithoutAskingAgain(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	// classify answers; enrich fails with a 500, then answers on the retry.
	fake := startFake(t, faultNone, faultError, faultNone)
	summary := runAgainst(t, st, fake, 1)

	if summary.Runs[klaxontype.RunStatusCompleted] != 1 || summary.Retries != 1 {
		t.Fatalf("summary = %+v; want one completed run after one retry", summary)
	}
	if got := fake.Requests(); got != 3 {
		t.Fatalf("the model server got %d requests; want 3 (classify, enrich, enrich again), classify replayed", got)
	}
	if summary.StepsReplayed < 2 {
		t.Fatalf("%d steps replayed; want extract and classify", summary.StepsReplayed)
	}
	run := findRun(t, st, SampleDocument(1).ID)
	if run.Spend.ModelCalls != 2 || run.Spend.Usage.InputTokens == 0 || run.Spend.Cost.Unknown || run.Spend.Cost.USD <= 0 {
		t.Fatalf("run spend = %+v; want the two answered calls, priced", run.Spend)
	}
	if summary.Spend != run.Spend || summary.PerCompletedRun.Runs != 1 ||
		summary.PerCompletedRun.Tokens != float64(run.Spend.Usage.Total()) || summary.PerCompletedRun.Cost != run.Spend.Cost {
		t.Fatalf("summary spend %+v, per completed run %+v; want the run's %+v", summary.Spend, summary.PerCompletedRun, run.Spend)
	}

	// A second demo on the same database has nothing to ask.
	before := fake.Requests()
	runAgainst(t, st, fake, 0)
	if fake.Requests() != before {
		t.Fatalf("a demo with nothing to do sent %d requests", fake.Requests()-before)
	}
}

// The 50th document sends enrich into a tool loop the fake model never ends;
// the run's token budget stops it, and it lands in the dead-letter queue as
// budget_exceeded, while ordinary runs stay far below the budget.
func TestRunawayAgentIsStoppedByItsBudget(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	fake := startFake(t)
	summary := runAgainst(t, st, fake, 50)

	want := map[klaxontype.FailureClass]int{
		klaxontype.ClassBudgetExceeded: 1, klaxontype.ClassContextOverflow: 1, klaxontype.ClassPolicyViolation: 1,
	}
	if len(summary.DeadLetters) != len(want) {
		t.Fatalf("dead letters %v; want %v", summary.DeadLetters, want)
	}
	for class, n := range want {
		if summary.DeadLetters[class] != n {
			t.Fatalf("dead letters %v; want %v", summary.DeadLetters, want)
		}
	}
	if summary.Runs[klaxontype.RunStatusCompleted] != 47 {
		t.Fatalf("runs %v; want 47 completed", summary.Runs)
	}

	// The engine checks the budget before every step: the turn that crossed
	// it asked for a tool call, and that step is the one refused.
	runaway := findRun(t, st, SampleDocument(50).ID)
	if runaway.Failure == nil || runaway.Failure.Class != klaxontype.ClassBudgetExceeded || runaway.Failure.Step != "tool:"+lookUpTool.Name {
		t.Fatalf("runaway run failure = %+v", runaway.Failure)
	}
	if runaway.Spend.Usage.Total() < runTokenBudget || runaway.Spend.ModelCalls < 3 {
		t.Fatalf("runaway spend %+v; want the budget of %d tokens reached over several turns", runaway.Spend, runTokenBudget)
	}
	steps, err := st.StepList(context.Background(), runaway.ID)
	if err != nil {
		t.Fatal(err)
	}
	tools := 0
	for _, step := range steps {
		if step.Name == "tool:"+lookUpTool.Name {
			tools++
		}
	}
	// classify is the other call, and the last turn's tool call was refused.
	if tools != runaway.Spend.ModelCalls-2 {
		t.Fatalf("%d tool calls recorded for %d model calls", tools, runaway.Spend.ModelCalls)
	}

	// Every request the server answered is in some run's spend; two were
	// refused before any token was counted, and a call the client gave up on
	// (a step timeout, on a loaded machine) has no answer to account for.
	abandoned := int64(timedOutAttempts(t, st))
	if got, accounted := fake.Requests(), int64(summary.Spend.ModelCalls+2); got < accounted || got > accounted+abandoned {
		t.Fatalf("the model server got %d requests; the runs account for %d (%d answered, 2 refused) and %d more may have been abandoned by a step timeout",
			got, accounted, summary.Spend.ModelCalls, abandoned)
	}
	if perRun := summary.PerCompletedRun; perRun.Runs != 47 || perRun.Tokens <= 0 || perRun.Tokens > runTokenBudget/10 || perRun.Cost.Unknown {
		t.Fatalf("per completed run %+v; want known and far below the budget", perRun)
	}
	var text bytes.Buffer
	summary.WriteText(&text)
	for _, want := range []string{"budget_exceeded", "per completed run on average", "gpt-4o-mini", "cost:            $"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, text.String())
		}
	}
}

// A call to a model the price table does not list makes the cost unknown,
// never zero, in total and per run.
func TestSummaryShowsUnknownCost(t *testing.T) {
	t.Parallel()
	summary := &Summary{
		Model: "my-finetune", Endpoint: "http://127.0.0.1:1/v1",
		Spend:           klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 100, OutputTokens: 5}, Cost: klaxontype.UnknownCost(), ModelCalls: 2},
		PerCompletedRun: RunAverage{Runs: 1, Tokens: 105, ModelCalls: 2, Cost: klaxontype.UnknownCost()},
	}
	var text bytes.Buffer
	summary.WriteText(&text)
	if !strings.Contains(text.String(), "cost:            unknown; unknown per completed run on average") {
		t.Fatalf("summary:\n%s", text.String())
	}
	encoded, err := json.Marshal(summary)
	if err != nil || !strings.Contains(string(encoded), `"cost":"unknown"`) || strings.Contains(string(encoded), `"cost":0`) {
		t.Fatalf("JSON summary %s, %v", encoded, err)
	}
}
