package klaxon_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// A run that died budget_exceeded dies again at once when resumed as it is,
// and completes when replayed with a new token budget; its cost cap, not
// given, is kept.
func TestReplayWithANewBudget(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("budgeted-agent", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Step(ctx, "think", func(ctx context.Context) (int, error) {
			n := calls.Add(1)
			fakeCall(ctx, 300, 100, 0.001)
			if n < 5 {
				return 0, klaxon.Transient(errors.New("model overloaded"))
			}
			return int(n), nil
		})
	}, klaxon.WithBudget(klaxontype.Budget{Tokens: 1000, CostUSD: 1}), klaxon.WithRetryPolicy(klaxontype.RetryPolicy{
		MaxAttempts: 10, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	}))
	client := startClient(t, st, nil, wf)
	ctx := context.Background()
	result, _ := wf.Enqueue(ctx, client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassBudgetExceeded {
		t.Fatalf("run %s %+v; want dead budget_exceeded", run.Status, run.Failure)
	}
	entry := openEntryOf(t, client, run.ID)

	// Resumed as it is, it has nothing left to spend.
	before := calls.Load()
	if _, err := client.Replay(ctx, entry.ID, klaxon.ReplayOptions{Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	run = awaitDeadOrCompleted(t, client, run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassBudgetExceeded || calls.Load() != before {
		t.Fatalf("resumed without a new budget: %s %+v after %d more calls; want dead budget_exceeded at once", run.Status, run.Failure, calls.Load()-before)
	}

	entry = openEntryOf(t, client, run.ID)
	if _, err := client.Replay(ctx, entry.ID, klaxon.ReplayOptions{Actor: "alice", Budget: &klaxontype.Budget{Tokens: 5000}}); err != nil {
		t.Fatal(err)
	}
	run = awaitDeadOrCompleted(t, client, run.ID)
	if run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("replayed with a new budget: %s %+v; want completed", run.Status, run.Failure)
	}
	if run.Budget == nil || run.Budget.Tokens != 5000 || run.Budget.CostUSD != 1 {
		t.Errorf("run budget %+v; want 5000 tokens and the workflow's $1 kept", run.Budget)
	}
	events, err := st.EventList(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		found = found || (e.Type == klaxontype.EventDLQReplayed && strings.Contains(e.Message, "with a new budget of 5000 tokens and $1.0000"))
	}
	if !found {
		t.Errorf("no dlq.replayed event names the new budget")
	}
	records, err := client.AuditLog(ctx, &klaxon.AuditFilter{Action: klaxontype.AuditDLQReplay})
	if err != nil || len(records) != 2 || !strings.Contains(string(records[0].Params), `"budget":{"tokens":5000,"cost_usd":1}`) {
		t.Errorf("audit of the replays: %v %+v", err, records)
	}
	if _, err := client.Replay(ctx, "no-such-entry", klaxon.ReplayOptions{Budget: &klaxontype.Budget{Tokens: -1}}); err == nil {
		t.Error("a replay with a negative budget was accepted")
	}
}

func openEntryOf(t *testing.T, client *klaxon.Client, runID string) *klaxontype.DeadLetter {
	t.Helper()
	entries, err := client.DeadLetters(context.Background(), &klaxon.DeadLetterFilter{RunID: runID, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}})
	if err != nil || len(entries) != 1 {
		t.Fatalf("open entries of run %s: %v, %d", runID, err, len(entries))
	}
	return entries[0]
}

// awaitDeadOrCompleted waits for a replayed run to end again.
func awaitDeadOrCompleted(t *testing.T, client *klaxon.Client, id string) *klaxontype.Run {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		run, err := client.Run(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status == klaxontype.RunStatusDead || run.Status == klaxontype.RunStatusCompleted {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %s after 10s", id, run.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
