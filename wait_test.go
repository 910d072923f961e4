package klaxon_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// awaitStatus polls a run until it has a status, failing the test after 10s.
func awaitStatus(t *testing.T, client *klaxon.Client, id string, status klaxontype.RunStatus) *klaxontype.Run {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		run, err := client.Run(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status == status {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %s, never %s", id, run.Status, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func enqueue(t *testing.T, client *klaxon.Client, workflow string, input string, opts ...klaxon.EnqueueOption) string {
	t.Helper()
	result, err := client.Enqueue(context.Background(), workflow, []byte(input), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return result.Run.ID
}

func TestSleepGivesUpTheWorkerAndResumesWithoutRunningStepsAgain(t *testing.T) {
	t.Parallel()
	var before, after atomic.Int32
	wf := klaxon.NewWorkflow("sleeper", func(ctx context.Context, _ int) (string, error) {
		if _, err := klaxon.Step(ctx, "before", func(ctx context.Context) (int, error) { return int(before.Add(1)), nil }); err != nil {
			return "", err
		}
		if err := klaxon.Sleep(ctx, "cool-off", 300*time.Millisecond); err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "after", func(ctx context.Context) (string, error) { after.Add(1); return "done", nil })
	}, klaxon.ExpectSteps("before", "cool-off", "after"))
	client := startClient(t, openStore(t), nil, wf)
	id := enqueue(t, client, "sleeper", "1")

	waiting := awaitStatus(t, client, id, klaxontype.RunStatusWaiting)
	if waiting.LeaseHolder != "" {
		t.Errorf("a waiting run holds a lease of %s", waiting.LeaseHolder)
	}
	waits, err := client.Waits(context.Background(), id)
	if err != nil || len(waits) != 1 || waits[0].Name != "cool-off" || waits[0].Kind != klaxontype.WaitSleep || waits[0].State != klaxontype.WaitOpen {
		t.Fatalf("waits = %+v, %v; want the open sleep cool-off", waits, err)
	}
	if d := waits[0].Deadline.Sub(waits[0].StartedAt); d != 300*time.Millisecond {
		t.Errorf("the sleep is due %s after it began, want 300ms", d)
	}

	run := awaitRun(t, client, id)
	if run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("run ended %s: %+v", run.Status, run.Failure)
	}
	if before.Load() != 1 || after.Load() != 1 {
		t.Errorf("step before ran %d times, after %d; want once each", before.Load(), after.Load())
	}
	if run.Attempt != 1 {
		t.Errorf("a run that slept once counts %d attempts, want 1: a wake-up is not an attempt", run.Attempt)
	}
	if elapsed := run.FinishedAt.Sub(waits[0].StartedAt); elapsed < 300*time.Millisecond {
		t.Errorf("the run finished %s after the sleep began, before it was due", elapsed)
	}
	types := eventTypes(t, client.Store(), id)
	if !contains(types, string(klaxontype.EventRunWaiting)) {
		t.Errorf("events %v have no run.waiting", types)
	}
	waits, _ = client.Waits(context.Background(), id)
	if waits[0].State != klaxontype.WaitSatisfied || waits[0].EndedBy != "timer" {
		t.Errorf("the sleep ended %s by %q, want satisfied by the timer", waits[0].State, waits[0].EndedBy)
	}
}

type refundDetails struct {
	OrderID string `json:"order_id"`
	Amount  int    `json:"amount"`
}

func signalWorkflow(timeout time.Duration) *klaxon.Workflow[int, refundDetails] {
	return klaxon.NewWorkflow("refund", func(ctx context.Context, _ int) (refundDetails, error) {
		return klaxon.WaitForSignal[refundDetails](ctx, "payment", klaxon.SignalTimeout(timeout))
	}, klaxon.ExpectSteps("payment"))
}

func TestSignalSatisfiesTheWaitOnceAndABadPayloadChangesNothing(t *testing.T) {
	t.Parallel()
	client := startClient(t, openStore(t), nil, signalWorkflow(time.Hour))
	id := enqueue(t, client, "refund", "1")
	awaitStatus(t, client, id, klaxontype.RunStatusWaiting)
	ctx := context.Background()

	_, err := client.Signal(ctx, id, "payment", []byte(`{"order_id": 42, "amount": "ten"}`), "payments-webhook")
	if !errors.Is(err, klaxontype.ErrInvalid) || !strings.Contains(err.Error(), "order_id") {
		t.Fatalf("a payload of the wrong type gave %v; want ErrInvalid naming order_id", err)
	}
	if signals, _ := client.Signals(ctx, id); len(signals) != 0 {
		t.Fatalf("a refused signal was recorded: %+v", signals)
	}
	if _, err := client.Signal(ctx, id, "shipping", []byte(`{}`), "webhook"); !errors.Is(err, klaxontype.ErrSignalRefused) {
		t.Errorf("a signal the manifest does not name gave %v, want ErrSignalRefused", err)
	}
	if _, err := client.Signal(ctx, "01NOSUCHRUN0000000000000000", "payment", []byte(`{}`), ""); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Errorf("a signal to an unknown run gave %v, want ErrNotFound", err)
	}

	sent, err := client.Signal(ctx, id, "payment", []byte(`{"order_id": "42", "amount": 10}`), "payments-webhook", klaxon.SignalKey("evt_1"))
	if err != nil || !sent.Consumed {
		t.Fatalf("signal = %+v, %v; want consumed by the wait", sent, err)
	}
	run := awaitRun(t, client, id)
	var output refundDetails
	if run.Status != klaxontype.RunStatusCompleted || json.Unmarshal(run.Output, &output) != nil || output != (refundDetails{"42", 10}) {
		t.Fatalf("run ended %s with %s, want completed with the payload", run.Status, run.Output)
	}
	again, err := client.Signal(ctx, id, "payment", []byte(`{"order_id": "42", "amount": 10}`), "payments-webhook", klaxon.SignalKey("evt_1"))
	if err != nil || !again.Duplicate || again.Signal.ID != sent.Signal.ID {
		t.Errorf("a retried webhook with the same key gave %+v, %v; want the first signal, duplicate", again, err)
	}
	if _, err := client.Signal(ctx, id, "payment", []byte(`{}`), "payments-webhook"); !errors.Is(err, klaxontype.ErrSignalRefused) {
		t.Errorf("a signal to a completed run gave %v, want ErrSignalRefused", err)
	}
	if signals, _ := client.Signals(ctx, id); len(signals) != 1 || signals[0].ConsumedSeq != 1 {
		t.Errorf("signals = %+v; want the one consumed by step 1", signals)
	}
}

func TestSignalSentBeforeTheWaitIsKeptAndTaken(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	sender, err := klaxon.NewClient(st, fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Register(signalWorkflow(time.Hour)); err != nil {
		t.Fatal(err)
	}
	id := enqueue(t, sender, "refund", "1")
	ctx := context.Background()
	sent, err := sender.Signal(ctx, id, "payment", []byte(`{"order_id": "7", "amount": 3}`), "early")
	if err != nil || sent.Consumed {
		t.Fatalf("an early signal gave %+v, %v; want kept", sent, err)
	}
	if _, err := sender.Signal(ctx, id, "payment", []byte(`{"order_id": "8", "amount": 3}`), "early"); !errors.Is(err, klaxontype.ErrSignalRefused) {
		t.Errorf("a second kept signal of the same name gave %v, want ErrSignalRefused", err)
	}

	client := startClient(t, st, nil, signalWorkflow(time.Hour))
	run := awaitRun(t, client, id)
	if run.Status != klaxontype.RunStatusCompleted || !strings.Contains(string(run.Output), `"7"`) {
		t.Fatalf("run ended %s with %s; want completed with the early payload", run.Status, run.Output)
	}
}

func TestWaitPastItsTimeoutDeadLettersToReviewWithoutRetries(t *testing.T) {
	t.Parallel()
	client := startClient(t, openStore(t), nil, signalWorkflow(200*time.Millisecond))
	id := enqueue(t, client, "refund", "1")
	run := awaitRun(t, client, id)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassTimeout {
		t.Fatalf("run ended %s (%+v), want dead, timeout", run.Status, run.Failure)
	}
	if !strings.Contains(run.Failure.Reason, `signal "payment" not received in 200ms`) {
		t.Errorf("reason %q does not say which signal and how long", run.Failure.Reason)
	}
	if run.Attempt != 1 || run.Retries != 0 {
		t.Errorf("a timed-out wait was retried: attempt %d, %d retries", run.Attempt, run.Retries)
	}
	entries, err := client.DeadLetters(context.Background(), &klaxon.DeadLetterFilter{})
	if err != nil || len(entries) != 1 || entries[0].Channel != "review" {
		t.Fatalf("entries = %+v, %v; want one on the review channel", entries, err)
	}

	// Resumed, the wait begins afresh with a new deadline, and a signal ends it.
	if _, err := client.Replay(context.Background(), entries[0].ID, klaxon.ReplayOptions{Actor: "ops"}); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, client, id, klaxontype.RunStatusWaiting)
	if _, err := client.Signal(context.Background(), id, "payment", []byte(`{"order_id": "1", "amount": 1}`), "ops"); err != nil {
		t.Fatal(err)
	}
	if run := awaitRun(t, client, id); run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("the resumed run ended %s (%+v)", run.Status, run.Failure)
	}
}

func TestWorkflowCatchingWaitTimeoutTakesAnotherBranch(t *testing.T) {
	t.Parallel()
	wf := klaxon.NewWorkflow("fallback", func(ctx context.Context, _ int) (string, error) {
		_, err := klaxon.WaitForSignal[string](ctx, "reply", klaxon.SignalTimeout(100*time.Millisecond))
		if errors.Is(err, klaxon.ErrWaitTimedOut) {
			return klaxon.Step(ctx, "escalate", func(ctx context.Context) (string, error) { return "escalated", nil })
		}
		return "replied", err
	})
	client := startClient(t, openStore(t), nil, wf)
	id := enqueue(t, client, "fallback", "1")
	run := awaitRun(t, client, id)
	if run.Status != klaxontype.RunStatusCompleted || string(run.Output) != `"escalated"` {
		t.Fatalf("run ended %s with %s (%+v), want completed by the other branch", run.Status, run.Output, run.Failure)
	}
	if types := eventTypes(t, client.Store(), id); !contains(types, string(klaxontype.EventWaitTimedOut)) || !contains(types, string(klaxontype.EventStepFailed)) {
		t.Errorf("events %v do not show the timed-out wait", types)
	}
}

func TestApprovalIsDecidedByAnApproverAndAudited(t *testing.T) {
	t.Parallel()
	wf := klaxon.NewWorkflow("refund-approval", func(ctx context.Context, amount int) (string, error) {
		decision, err := klaxon.AwaitApproval(ctx, "refund", klaxon.ApprovalRequest{
			Title: "Refund 120 EUR?", Body: "Order 42", Data: map[string]int{"amount": amount}, Approvers: []string{"alice"},
		})
		if err != nil {
			return "", err
		}
		return decision.Decision() + " by " + decision.By + ": " + decision.Comment, nil
	})
	client := startClient(t, openStore(t), nil, wf)
	id := enqueue(t, client, "refund-approval", "120", klaxon.WithEntity("order_id", "42"))
	awaitStatus(t, client, id, klaxontype.RunStatusWaiting)
	ctx := context.Background()

	inbox, err := client.Approvals(ctx, 0)
	if err != nil || len(inbox) != 1 || inbox[0].Request.Title != "Refund 120 EUR?" || inbox[0].Entities["order_id"] != "42" {
		t.Fatalf("inbox = %+v, %v; want the refund request with its run's context", inbox, err)
	}
	if _, err := client.DecideApproval(ctx, id, "refund", klaxon.Decision{Approved: true}, "mallory"); !errors.Is(err, klaxontype.ErrNotApprover) {
		t.Fatalf("a decision by a non-approver gave %v, want ErrNotApprover", err)
	}
	if _, err := client.Signal(ctx, id, "refund", []byte(`{"approved": true}`), "mallory"); !errors.Is(err, klaxontype.ErrSignalRefused) {
		t.Fatalf("a plain signal to an approval gave %v, want ErrSignalRefused", err)
	}
	if _, err := client.DecideApproval(ctx, id, "other", klaxon.Decision{Approved: true}, "alice"); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Fatalf("a decision on an unknown approval gave %v, want ErrNotFound", err)
	}
	if _, err := client.DecideApproval(ctx, id, "refund", klaxon.Decision{Approved: false, Comment: "over the limit"}, "alice"); err != nil {
		t.Fatal(err)
	}
	run := awaitRun(t, client, id)
	if run.Status != klaxontype.RunStatusCompleted || string(run.Output) != `"rejected by alice: over the limit"` {
		t.Fatalf("run ended %s with %s", run.Status, run.Output)
	}
	records, err := client.AuditLog(ctx, &klaxon.AuditFilter{Action: klaxontype.AuditApprovalDecide})
	if err != nil || len(records) != 1 || records[0].Actor != "alice" || records[0].Target != id {
		t.Fatalf("audit = %+v, %v; want alice's decision on the run", records, err)
	}
	pending, err := client.PendingNotifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range pending {
		found = found || p.Channel == "approvals"
	}
	if !found {
		t.Errorf("no notification on the approvals channel: %+v", pending)
	}
}

func TestCancellingAWaitingRunCancelsItAtOnce(t *testing.T) {
	t.Parallel()
	client := startClient(t, openStore(t), nil, signalWorkflow(time.Hour))
	id := enqueue(t, client, "refund", "1")
	awaitStatus(t, client, id, klaxontype.RunStatusWaiting)
	run, err := client.Cancel(context.Background(), id, "customer withdrew", "ops")
	if err != nil || run.Status != klaxontype.RunStatusCancelled {
		t.Fatalf("cancel = %+v, %v", run, err)
	}
	if _, err := client.Signal(context.Background(), id, "payment", []byte(`{}`), "late"); !errors.Is(err, klaxontype.ErrSignalRefused) {
		t.Errorf("a signal to a cancelled run gave %v", err)
	}
}

func TestSignalByEntityReachesTheWaitingRun(t *testing.T) {
	t.Parallel()
	client := startClient(t, openStore(t), nil, signalWorkflow(time.Hour))
	waiting := enqueue(t, client, "refund", "1", klaxon.WithEntity("order_id", "42"))
	other := enqueue(t, client, "refund", "2", klaxon.WithEntity("order_id", "43"))
	awaitStatus(t, client, waiting, klaxontype.RunStatusWaiting)
	awaitStatus(t, client, other, klaxontype.RunStatusWaiting)
	ctx := context.Background()
	if _, err := client.SignalEntity(ctx, "order_id", "99", "payment", []byte(`{}`), "webhook"); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Errorf("a signal to an entity with no run gave %v, want ErrNotFound", err)
	}
	results, err := client.SignalEntity(ctx, "order_id", "42", "payment", []byte(`{"order_id": "42", "amount": 5}`), "webhook")
	if err != nil || len(results) != 1 || results[0].Signal.RunID != waiting || !results[0].Consumed {
		t.Fatalf("results = %+v, %v; want run %s's wait satisfied", results, err, waiting)
	}
	if run := awaitRun(t, client, waiting); run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("run ended %s", run.Status)
	}
	if run, _ := client.Run(ctx, other); run.Status != klaxontype.RunStatusWaiting {
		t.Errorf("the other entity's run is %s, want still waiting", run.Status)
	}
}

func contains[T comparable](list []T, want T) bool {
	for _, v := range list {
		if v == want {
			return true
		}
	}
	return false
}
