package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
	"github.com/klaxonhq/klaxon/store"
)

// waitRequest is a wait a remote worker's workflow reached.
func waitRequest(run protocol.ClaimedRun, name string, kind klaxontype.WaitKind, timeout time.Duration) protocol.WaitRequest {
	return protocol.WaitRequest{
		WorkerID: "py-1", Workflow: run.Workflow, Attempt: run.Attempt, Epoch: run.Epoch,
		Name: name, Kind: kind, TimeoutMS: timeout.Milliseconds(),
	}
}

// people is the Go API through which the tests send signals and decisions,
// on the fixture's store.
func (f *workerFixture) people() *klaxon.Client {
	f.t.Helper()
	client, err := klaxon.NewClient(f.store, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return client
}

// claimOne claims the workflow's one run, waiting for it to be due.
func (f *workerFixture) claimOne(workflow string) protocol.ClaimedRun {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if runs := f.claim(workflow, 2*time.Second); len(runs) == 1 {
			return runs[0]
		}
	}
	f.t.Fatalf("no run of %s claimable within 10s", workflow)
	return protocol.ClaimedRun{}
}

func TestWorkerWaitSleepsWithoutALeaseAndResumesTheSameAttempt(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "napper", ExpectSteps: []string{"fetch", "nap", "store"}})
	id := f.enqueue("napper", `{}`)
	run := f.claimOne("napper")
	f.post("/runs/"+id+"/steps/1", checkpoint(run, 1, "fetch", `"page"`), http.StatusOK, nil)

	var answer protocol.WaitAnswer
	f.post("/runs/"+id+"/waits/2", waitRequest(run, "nap", klaxontype.WaitSleep, 300*time.Millisecond), http.StatusOK, &answer)
	if answer.State != protocol.WaitWaiting || answer.Until.IsZero() || answer.Deadline.IsZero() {
		t.Fatalf("first reach answered %+v", answer)
	}
	waiting := f.awaitStatus(id, klaxontype.RunStatusWaiting)
	if waiting.LeaseHolder != "" {
		t.Fatalf("a waiting run holds a lease: %+v", waiting)
	}
	// The worker sends nothing more; a write of that attempt is refused.
	f.post("/runs/"+id+"/steps/3", checkpoint(run, 3, "store", `1`), http.StatusConflict, nil).wantProblem(t, http.StatusConflict, "lease-lost")

	again := f.claimOne("napper")
	if again.Attempt != run.Attempt || again.Epoch <= run.Epoch || len(again.Steps) != 1 || again.Steps[0].Name != "fetch" {
		t.Fatalf("the resumed claim: attempt %d epoch %d steps %+v; first claim attempt %d epoch %d", again.Attempt, again.Epoch, again.Steps, run.Attempt, run.Epoch)
	}
	// Another wait where the run began this one is nondeterminism.
	f.post("/runs/"+id+"/waits/2", waitRequest(again, "siesta", klaxontype.WaitSleep, 300*time.Millisecond), http.StatusConflict, nil).
		wantProblem(t, http.StatusConflict, "nondeterminism", "nap", "siesta")
	f.post("/runs/"+id+"/waits/2", waitRequest(again, "nap", klaxontype.WaitSleep, 300*time.Millisecond), http.StatusOK, &answer)
	if answer.State != protocol.WaitSatisfied || string(answer.Output) != "null" {
		t.Fatalf("the due sleep answered %+v", answer)
	}
	f.post("/runs/"+id+"/steps/3", checkpoint(again, 3, "store", `1`), http.StatusOK, nil)
	done := outcome(again, protocol.ResultCompleted)
	done.Output, done.StepsDone = json.RawMessage(`1`), []int{1, 2, 3}
	var next protocol.OutcomeAnswer
	f.post("/runs/"+id+"/outcome", done, http.StatusOK, &next)
	if next.Next != protocol.NextCompleted {
		t.Fatalf("outcome answered %+v", next)
	}
	completed := f.awaitStatus(id, klaxontype.RunStatusCompleted)
	if completed.Attempt != 1 {
		t.Fatalf("a sleep cost an attempt: %+v", completed)
	}
	steps, _ := f.store.StepList(context.Background(), id)
	if len(steps) != 3 || steps[1].Name != "nap" || string(steps[1].Output) != "null" {
		t.Fatalf("step log %+v", steps)
	}
}

func TestWorkerWaitTakesASignalKeptBeforeIt(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "payer", ExpectSteps: []string{"paid"}})
	id := f.enqueue("payer", `{}`)
	run := f.claimOne("payer")
	sent, err := f.people().Signal(context.Background(), id, "paid", []byte(`{"amount":12}`), "webhook")
	if err != nil || sent.Consumed {
		t.Fatalf("signal before the wait: %+v, %v", sent, err)
	}
	var answer protocol.WaitAnswer
	f.post("/runs/"+id+"/waits/1", waitRequest(run, "paid", klaxontype.WaitSignal, time.Hour), http.StatusOK, &answer)
	// The kept signal satisfied the wait as the run went waiting: claimable
	// at once, its payload in the claim's step log.
	if answer.State != protocol.WaitWaiting || answer.Until.After(time.Now().Add(time.Minute)) {
		t.Fatalf("wait answered %+v", answer)
	}
	again := f.claimOne("payer")
	if again.Attempt != run.Attempt || len(again.Steps) != 1 || again.Steps[0].Name != "paid" || string(again.Steps[0].Output) != `{"amount":12}` {
		t.Fatalf("the resumed claim: %+v", again)
	}
	// A worker that asks anyway is answered from the log.
	f.post("/runs/"+id+"/waits/1", waitRequest(again, "paid", klaxontype.WaitSignal, time.Hour), http.StatusOK, &answer)
	if answer.State != protocol.WaitSatisfied || string(answer.Output) != `{"amount":12}` {
		t.Fatalf("the satisfied wait answered %+v", answer)
	}
	// Another name at that sequence is nondeterminism.
	f.post("/runs/"+id+"/waits/1", waitRequest(again, "refunded", klaxontype.WaitSignal, time.Hour), http.StatusConflict, nil).
		wantProblem(t, http.StatusConflict, "nondeterminism", "paid", "refunded")
}

func TestWorkerWaitTimesOutToReviewWithoutRetries(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "patient", Retry: &protocol.RetrySettings{MaxAttempts: 5, InitialBackoffMS: 1, MaxBackoffMS: 5}})
	id := f.enqueue("patient", `{}`)
	run := f.claimOne("patient")
	var answer protocol.WaitAnswer
	f.post("/runs/"+id+"/waits/1", waitRequest(run, "reply", klaxontype.WaitSignal, 200*time.Millisecond), http.StatusOK, &answer)
	if answer.State != protocol.WaitWaiting {
		t.Fatalf("first reach answered %+v", answer)
	}
	again := f.claimOne("patient")
	// A retried wait keeps its first deadline: the timeout is not reset.
	f.post("/runs/"+id+"/waits/1", waitRequest(again, "reply", klaxontype.WaitSignal, time.Hour), http.StatusOK, &answer)
	if answer.State != protocol.WaitTimedOut || answer.Class != klaxontype.ClassTimeout || answer.Message != `signal "reply" not received in 200ms` {
		t.Fatalf("past its deadline the wait answered %+v", answer)
	}
	// The workflow did not catch it: a failure of class timeout, which the
	// server, knowing the wait timed out, sends to review without retries.
	failed := outcome(again, protocol.ResultFailed)
	failed.Error = &protocol.ReportedError{Kind: protocol.KindFailure, Class: klaxontype.ClassTimeout, Message: answer.Message, Step: "reply", Seq: 1}
	failed.StepFailures = []protocol.StepFailureReport{{Seq: 1, Name: "reply", Error: *failed.Error}}
	var next protocol.OutcomeAnswer
	f.post("/runs/"+id+"/outcome", failed, http.StatusOK, &next)
	if next.Next != protocol.NextDead || next.Class != klaxontype.ClassTimeout {
		t.Fatalf("outcome answered %+v", next)
	}
	dead := f.awaitStatus(id, klaxontype.RunStatusDead)
	if dead.Attempt != 1 || dead.Failure == nil || !strings.Contains(dead.Failure.Reason, `signal "reply" not received in 200ms`) {
		t.Fatalf("dead run %+v, failure %+v", dead, dead.Failure)
	}
	entry := f.deadLetterOf(id)
	if entry.Channel != "review" || entry.Class != klaxontype.ClassTimeout {
		t.Fatalf("dead-letter entry %+v", entry)
	}
}

func TestWorkerWaitAsksForAnApprovalAndTakesTheDecision(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "refund"})
	id := f.enqueue("refund", `{}`)
	run := f.claimOne("refund")
	request := waitRequest(run, "approve-refund", klaxontype.WaitApproval, time.Hour)
	request.Request = &klaxontype.ApprovalRequest{Title: "Refund $12?", Body: "Order 42", Data: json.RawMessage(`{"amount":12}`), Approvers: []string{"alice"}}
	var answer protocol.WaitAnswer
	f.post("/runs/"+id+"/waits/1", request, http.StatusOK, &answer)
	if answer.State != protocol.WaitWaiting || answer.Deadline.Sub(time.Now()) < 59*time.Minute {
		t.Fatalf("first reach answered %+v", answer)
	}
	people := f.people()
	approvals, err := people.Approvals(context.Background(), 0)
	if err != nil || len(approvals) != 1 || approvals[0].Request == nil || approvals[0].Request.Title != "Refund $12?" || approvals[0].RunID != id {
		t.Fatalf("approvals inbox: %+v, %v", approvals, err)
	}
	if _, err := people.DecideApproval(context.Background(), id, "approve-refund", klaxon.Decision{Approved: true, Comment: "fine"}, "bob"); err == nil {
		t.Fatal("bob, not among the approvers, decided")
	}
	if _, err := people.DecideApproval(context.Background(), id, "approve-refund", klaxon.Decision{Approved: true, Comment: "fine"}, "alice"); err != nil {
		t.Fatal(err)
	}
	again := f.claimOne("refund")
	var decision klaxontype.ApprovalDecision
	if len(again.Steps) != 1 || json.Unmarshal(again.Steps[0].Output, &decision) != nil || !decision.Approved || decision.By != "alice" || decision.Comment != "fine" {
		t.Fatalf("the resumed claim's log: %+v", again.Steps)
	}
	events := strings.Join(f.events(id), " ")
	for _, want := range []string{"approval.requested", "run.waiting", "approval.decided"} {
		if !strings.Contains(events, want) {
			t.Fatalf("events %s lack %s", events, want)
		}
	}
}

func TestWorkerWaitRefusesAStaleEpochAndBadInputChangingNothing(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "careful"})
	id := f.enqueue("careful", `{}`)
	run := f.claimOne("careful")
	before := len(f.events(id))

	bad := map[string]func(*protocol.WaitRequest){
		"kind":       func(r *protocol.WaitRequest) { r.Kind = "nap" },
		"timeout_ms": func(r *protocol.WaitRequest) { r.TimeoutMS = -5 },
		"ten years":  func(r *protocol.WaitRequest) { r.TimeoutMS = 1 << 50 },
		"until":      func(r *protocol.WaitRequest) { r.Until = time.Now().Add(time.Hour) },
		"request":    func(r *protocol.WaitRequest) { r.Request = &klaxontype.ApprovalRequest{Title: "?"} },
		"name":       func(r *protocol.WaitRequest) { r.Name = "" },
		"doom": func(r *protocol.WaitRequest) {
			r.StepFailures = []protocol.StepFailureReport{{Seq: 1, Name: "x", Error: protocol.ReportedError{Kind: protocol.KindFailure, Class: klaxontype.ClassNondeterminism, Message: "changed", Step: "x", Seq: 1}}}
		},
		"step_failed": func(r *protocol.WaitRequest) {
			r.StepFailures = []protocol.StepFailureReport{{Seq: 1, Name: "x", Error: protocol.ReportedError{Kind: "oops"}}}
		},
	}
	for word, spoil := range bad {
		request := waitRequest(run, "reply", klaxontype.WaitSignal, time.Minute)
		spoil(&request)
		r := f.post("/runs/"+id+"/waits/1", request, http.StatusUnprocessableEntity, nil)
		if word != "ten years" && word != "step_failed" && word != "name" {
			r.wantProblem(t, http.StatusUnprocessableEntity, word)
		}
	}
	both := waitRequest(run, "nap", klaxontype.WaitSleep, time.Minute)
	both.Until = time.Now().Add(time.Hour)
	f.post("/runs/"+id+"/waits/1", both, http.StatusUnprocessableEntity, nil).wantProblem(t, http.StatusUnprocessableEntity, "not both")
	f.post("/runs/nosuchrun/waits/1", waitRequest(run, "reply", klaxontype.WaitSignal, time.Minute), http.StatusNotFound, nil)

	stale := waitRequest(run, "reply", klaxontype.WaitSignal, time.Minute)
	stale.Epoch = run.Epoch + 1
	f.post("/runs/"+id+"/waits/1", stale, http.StatusConflict, nil).wantProblem(t, http.StatusConflict, "lease-lost")

	stored := f.awaitStatus(id, klaxontype.RunStatusRunning)
	waits, err := f.people().Waits(context.Background(), id)
	if stored.Epoch != run.Epoch || stored.LeaseHolder != "py-1" || err != nil || len(waits) != 0 {
		t.Fatalf("refused waits changed the run: %+v, waits %+v, %v", stored, waits, err)
	}
	if events := f.events(id); len(events) != before+1 || events[len(events)-1] != string(klaxontype.EventDuplicateSuppressed) {
		t.Fatalf("events after refusals: %v (before: %d)", events, before)
	}
	// The run is still its holder's: the wait it sends now is taken.
	var answer protocol.WaitAnswer
	f.post("/runs/"+id+"/waits/1", waitRequest(run, "reply", klaxontype.WaitSignal, time.Minute), http.StatusOK, &answer)
	if answer.State != protocol.WaitWaiting {
		t.Fatalf("wait answered %+v", answer)
	}
}

// deadLetterOf is a run's dead-letter entry.
func (f *workerFixture) deadLetterOf(runID string) *klaxontype.DeadLetter {
	f.t.Helper()
	entries, err := f.store.DLQList(context.Background(), &store.DLQListParams{RunID: runID, Limit: 1})
	if err != nil || len(entries) != 1 {
		f.t.Fatalf("dead-letter entry of %s: %+v, %v", runID, entries, err)
	}
	return entries[0]
}
