package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
	"github.com/klaxonhq/klaxon/sqlite"
)

const workerSecret = "worker-secret-0123456789"

// workerFixture is a server serving the worker protocol over a real SQLite
// store, with no worker of its own: the test plays the remote worker.
type workerFixture struct {
	*fixture
}

func newWorkerFixture(t *testing.T) *workerFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: st}
	t.Cleanup(f.closeStore)
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	workers, err := client.RemoteWorkers(klaxon.RemoteWorkersConfig{
		Price: func(_, model string, usage klaxontype.TokenUsage) klaxontype.Cost {
			if model != "gpt-4o-mini" {
				return klaxontype.UnknownCost()
			}
			return klaxontype.KnownCost(float64(usage.InputTokens)*0.15e-6 + float64(usage.OutputTokens)*0.6e-6)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := klaxonhttp.NewTokens(
		klaxonhttp.Token{Name: "operator", Scope: klaxonhttp.ScopeOperate, Secret: operateSecret},
		klaxonhttp.Token{Name: "root", Scope: klaxonhttp.ScopeAdmin, Secret: adminSecret},
		klaxonhttp.Token{Name: "py-workers", Scope: klaxonhttp.ScopeWorker, Secret: workerSecret},
	)
	if err != nil {
		t.Fatal(err)
	}
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Tokens: tokens, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.Handler())
	t.Cleanup(ts.Close)
	f.server, f.api = ts, server
	return &workerFixture{fixture: f}
}

// post sends a worker protocol request and expects status want.
func (f *workerFixture) post(path string, body any, want int, answer any) *response {
	f.t.Helper()
	encoded, err := json.Marshal(body)
	if err != nil {
		f.t.Fatal(err)
	}
	r := f.do(http.MethodPost, klaxonhttp.APIPrefix+"/worker"+path, workerSecret, string(encoded))
	if r.status != want {
		f.t.Fatalf("POST %s: status %d, want %d: %s", path, r.status, want, r.body)
	}
	if answer != nil {
		r.decode(f.t, answer)
	}
	return r
}

func (f *workerFixture) register(workflows ...protocol.HostedWorkflow) {
	f.t.Helper()
	f.post("/register", protocol.RegisterRequest{
		Worker: protocol.WorkerInfo{ID: "py-1", Language: "python", SDKVersion: "0.1.0"}, Workflows: workflows,
	}, http.StatusOK, nil)
}

func (f *workerFixture) enqueue(workflow, input string) string {
	f.t.Helper()
	r := f.do(http.MethodPost, klaxonhttp.APIPrefix+"/runs", operateSecret, fmt.Sprintf(`{"workflow":%q,"input":%s}`, workflow, input))
	var answer struct {
		Run klaxontype.Run `json:"run"`
	}
	r.decode(f.t, &answer)
	if r.status != http.StatusCreated {
		f.t.Fatalf("enqueue: %d %s", r.status, r.body)
	}
	return answer.Run.ID
}

func (f *workerFixture) claim(workflow string, wait time.Duration) []protocol.ClaimedRun {
	f.t.Helper()
	var answer protocol.ClaimAnswer
	f.post("/claim", protocol.ClaimRequest{WorkerID: "py-1", Workflows: []string{workflow}, Limit: 8, WaitMS: wait.Milliseconds()}, http.StatusOK, &answer)
	return answer.Runs
}

func checkpoint(run protocol.ClaimedRun, seq int, name string, output string) protocol.CheckpointRequest {
	return protocol.CheckpointRequest{
		WorkerID: "py-1", Workflow: run.Workflow, Attempt: run.Attempt, Epoch: run.Epoch, Name: name,
		IdempotencyKey: fmt.Sprintf("%s/%d/%s", run.RunID, seq, name), Output: json.RawMessage(output),
	}
}

func outcome(run protocol.ClaimedRun, result string) protocol.OutcomeRequest {
	return protocol.OutcomeRequest{WorkerID: "py-1", Attempt: run.Attempt, Epoch: run.Epoch, Mode: run.Mode, Reclaimed: run.Reclaimed, Result: result}
}

func (f *workerFixture) events(runID string) []string {
	f.t.Helper()
	events, err := f.store.EventList(context.Background(), runID)
	if err != nil {
		f.t.Fatal(err)
	}
	types := make([]string, len(events))
	for i, event := range events {
		types[i] = string(event.Type)
	}
	return types
}

func TestWorkerProtocolCompletesARunAndFencesAStaleWorker(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "summarize", Version: 1, ExpectSteps: []string{"fetch", "summarize"}})
	id := f.enqueue("summarize", `"https://example.com"`)
	runs := f.claim("summarize", time.Second)
	if len(runs) != 1 || runs[0].RunID != id || runs[0].Mode != protocol.ModeRun || string(runs[0].Input) != `"https://example.com"` {
		t.Fatalf("claimed %+v", runs)
	}
	run := runs[0]

	first := checkpoint(run, 1, "fetch", `"<html>"`)
	first.ModelCalls = []protocol.ModelUsage{{Provider: "openai", Model: "gpt-4o-mini", InputTokens: 1000, OutputTokens: 100}}
	var answer protocol.CheckpointAnswer
	f.post("/runs/"+id+"/steps/1", first, http.StatusOK, &answer)
	if answer.Duplicate || answer.Spend.CostUSD <= 0 || answer.Spend.CostUnknown || answer.Spend.ModelCalls != 1 {
		t.Fatalf("first checkpoint answered %+v", answer)
	}
	// The same request again, as after a lost answer: the stored step, not
	// a second row and not an error.
	f.post("/runs/"+id+"/steps/1", first, http.StatusOK, &answer)
	if !answer.Duplicate || answer.Spend.ModelCalls != 1 {
		t.Fatalf("repeated checkpoint answered %+v", answer)
	}
	// Another step at the same sequence is nondeterminism.
	f.post("/runs/"+id+"/steps/1", checkpoint(run, 1, "other", `1`), http.StatusConflict, nil).wantProblem(t, http.StatusConflict, "nondeterminism", `fetch`, `other`)
	// A worker holding an older epoch is refused and recorded.
	stale := checkpoint(run, 2, "summarize", `"stale"`)
	stale.Epoch = run.Epoch - 1
	if stale.Epoch < 1 {
		stale.Epoch = run.Epoch + 1
	}
	f.post("/runs/"+id+"/steps/2", stale, http.StatusConflict, nil).wantProblem(t, http.StatusConflict, "lease-lost")

	f.post("/runs/"+id+"/steps/2", checkpoint(run, 2, "summarize", `"A summary."`), http.StatusOK, nil)
	done := outcome(run, protocol.ResultCompleted)
	done.Output, done.StepsDone = json.RawMessage(`"A summary."`), []int{1, 2}
	var next protocol.OutcomeAnswer
	f.post("/runs/"+id+"/outcome", done, http.StatusOK, &next)
	if next.Next != protocol.NextCompleted {
		t.Fatalf("outcome answered %+v", next)
	}
	stored := f.awaitStatus(id, klaxontype.RunStatusCompleted)
	if string(stored.Output) != `"A summary."` || stored.Spend.Usage.InputTokens != 1000 || stored.Spend.Cost.USD <= 0 {
		t.Fatalf("stored run %+v", stored)
	}
	steps, err := f.store.StepList(context.Background(), id)
	if err != nil || len(steps) != 2 || steps[0].Name != "fetch" || steps[1].Name != "summarize" {
		t.Fatalf("step log %+v, %v", steps, err)
	}
	events := strings.Join(f.events(id), " ")
	if strings.Count(events, "step.completed") != 2 || !strings.Contains(events, "duplicate.suppressed") || !strings.Contains(events, "run.completed") {
		t.Fatalf("events: %s", events)
	}
}

func TestWorkerProtocolRetriesByClassThenDeadLetters(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "answer", ExpectSteps: []string{"draft", "check"},
		Retry: &protocol.RetrySettings{InitialBackoffMS: 1, MaxBackoffMS: 5, Classes: map[klaxontype.FailureClass]int{klaxontype.ClassSemantic: 3}}})
	id := f.enqueue("answer", `{}`)

	run := f.claim("answer", time.Second)[0]
	f.post("/runs/"+id+"/steps/1", checkpoint(run, 1, "draft", `"draft"`), http.StatusOK, nil)
	failed := outcome(run, protocol.ResultFailed)
	failed.StepsDone = []int{1}
	failed.Error = &protocol.ReportedError{Kind: protocol.KindError, Type: "ConnectionResetError", Message: "connection reset", Step: "check", Seq: 2, Traceback: "Traceback (most recent call last): ..."}
	failed.StepFailures = []protocol.StepFailureReport{{Seq: 2, Name: "check", Error: *failed.Error}}
	var next protocol.OutcomeAnswer
	f.post("/runs/"+id+"/outcome", failed, http.StatusOK, &next)
	if next.Next != protocol.NextRetrying || next.Class != klaxontype.ClassTransient || next.RetryAt.IsZero() {
		t.Fatalf("an unknown error: %+v", next)
	}

	// The retry replays the checkpointed step from the log it is handed.
	var again []protocol.ClaimedRun
	for deadline := time.Now().Add(5 * time.Second); len(again) == 0 && time.Now().Before(deadline); {
		again = f.claim("answer", time.Second)
	}
	if len(again) != 1 || again[0].Attempt != 2 || len(again[0].Steps) != 1 || again[0].Steps[0].Name != "draft" {
		t.Fatalf("retry claimed %+v", again)
	}
	for attempt := 2; attempt <= 3; attempt++ { // semantic gets 3 attempts, the transient one included
		run = again[0]
		semantic := outcome(run, protocol.ResultFailed)
		semantic.StepsDone = []int{1}
		semantic.Error = &protocol.ReportedError{Kind: protocol.KindFailure, Class: klaxontype.ClassSemantic, Message: "empty answer", Step: "check", Seq: 2}
		f.post("/runs/"+id+"/outcome", semantic, http.StatusOK, &next)
		if attempt == 2 && next.Next != protocol.NextRetrying {
			t.Fatalf("first semantic failure: %+v", next)
		}
		if attempt == 3 {
			break
		}
		again = nil
		for deadline := time.Now().Add(5 * time.Second); len(again) == 0 && time.Now().Before(deadline); {
			again = f.claim("answer", time.Second)
		}
	}
	if next.Next != protocol.NextDead || next.Class != klaxontype.ClassSemantic || next.DeadLetterID == "" {
		t.Fatalf("second semantic failure: %+v", next)
	}
	entry, err := f.store.DLQGet(context.Background(), next.DeadLetterID)
	if err != nil || entry.Channel != "review" || entry.Class != klaxontype.ClassSemantic {
		t.Fatalf("dead-letter entry %+v, %v", entry, err)
	}
	attempts, err := f.store.AttemptList(context.Background(), id)
	if err != nil || len(attempts) != 3 || attempts[0].Stack == "" || attempts[0].Step != "check" {
		t.Fatalf("attempts %+v, %v", attempts, err)
	}
}

func TestWorkerProtocolCompensatesInReverse(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "book", ExpectSteps: []string{"hotel", "flight", "pay"}})
	id := f.enqueue("book", `{}`)
	run := f.claim("book", time.Second)[0]
	f.post("/runs/"+id+"/steps/1", checkpoint(run, 1, "hotel", `"H1"`), http.StatusOK, nil)
	f.post("/runs/"+id+"/steps/2", checkpoint(run, 2, "flight", `"F1"`), http.StatusOK, nil)
	failed := outcome(run, protocol.ResultFailed)
	failed.StepsDone, failed.Compensable = []int{1, 2}, []int{1, 2}
	failed.Error = &protocol.ReportedError{Kind: protocol.KindFailure, Class: klaxontype.ClassPermanent, Message: "card declined", Step: "pay", Seq: 3}
	var next protocol.OutcomeAnswer
	f.post("/runs/"+id+"/outcome", failed, http.StatusOK, &next)
	if next.Next != protocol.NextCompensate || len(next.Compensate) != 2 || next.Compensate[0].Name != "flight" || next.Compensate[1].Name != "hotel" {
		t.Fatalf("answer %+v", next)
	}
	if got := f.awaitStatus(id, klaxontype.RunStatusCompensating); got.Failure == nil || got.Failure.Class != klaxontype.ClassPermanent {
		t.Fatalf("compensating run %+v", got)
	}
	var recorded protocol.CompensationAnswer
	f.post("/runs/"+id+"/compensations/2", protocol.CompensationRequest{WorkerID: "py-1", Epoch: run.Epoch}, http.StatusOK, &recorded)
	if !recorded.Recorded {
		t.Fatal("the flight's compensation was not recorded")
	}
	f.post("/runs/"+id+"/compensations/1", protocol.CompensationRequest{WorkerID: "py-1", Epoch: run.Epoch,
		Error: &protocol.ReportedError{Kind: protocol.KindError, Message: "hotel API down"}}, http.StatusOK, nil)
	f.post("/runs/"+id+"/outcome", outcome(run, protocol.ResultCompensated), http.StatusOK, &next)
	if next.Next != protocol.NextDead || next.Class != klaxontype.ClassCompensationFailed || !strings.Contains(next.Reason, "hotel API down") {
		t.Fatalf("after compensations: %+v", next)
	}
	steps, _ := f.store.StepList(context.Background(), id)
	if steps[0].Status != klaxontype.StepStatusCompensationFailed || steps[1].Status != klaxontype.StepStatusCompensated {
		t.Fatalf("steps %+v %+v", steps[0], steps[1])
	}
}

func TestWorkerProtocolBudgetDoomsTheRun(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "spend", Budget: &protocol.BudgetCaps{Tokens: 1000}})
	id := f.enqueue("spend", `{}`)
	run := f.claim("spend", time.Second)[0]
	if run.Budget == nil || run.Budget.Tokens != 1000 || run.Doom != nil {
		t.Fatalf("claimed %+v", run)
	}
	step := checkpoint(run, 1, "think", `"thought"`)
	step.ModelCalls = []protocol.ModelUsage{{Model: "gpt-4o-mini", InputTokens: 900, OutputTokens: 200}}
	var answer protocol.CheckpointAnswer
	f.post("/runs/"+id+"/steps/1", step, http.StatusOK, &answer)
	if answer.Doom == nil || answer.Doom.Class != klaxontype.ClassBudgetExceeded || !strings.Contains(answer.Doom.Message, "1100 of a budget of 1000 tokens") {
		t.Fatalf("checkpoint answered %+v", answer)
	}
	failed := outcome(run, protocol.ResultFailed)
	failed.StepsDone = []int{1}
	failed.Error = &protocol.ReportedError{Kind: protocol.KindFailure, Class: klaxontype.ClassBudgetExceeded, Message: answer.Doom.Message, Step: "act", Seq: 2}
	var next protocol.OutcomeAnswer
	f.post("/runs/"+id+"/outcome", failed, http.StatusOK, &next)
	if next.Next != protocol.NextDead || next.Class != klaxontype.ClassBudgetExceeded {
		t.Fatalf("outcome %+v", next)
	}
}

func TestWorkerProtocolClaimWaitsForAnEnqueue(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "later"})
	claimed := make(chan []protocol.ClaimedRun, 1)
	go func() {
		claimed <- f.claim("later", 20*time.Second)
	}()
	time.Sleep(200 * time.Millisecond)
	id := f.enqueue("later", `1`)
	select {
	case runs := <-claimed:
		if len(runs) != 1 || runs[0].RunID != id {
			t.Fatalf("claimed %+v", runs)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the waiting claim did not take the run enqueued meanwhile")
	}
}

func TestWorkerProtocolRefusesBadRequestsAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "typed", Version: 1, ExpectSteps: []string{"a"},
		StepOutputSchemas: map[string]json.RawMessage{"a": json.RawMessage(`{"type":"object","required":["score"]}`)},
		OutputSchema:      json.RawMessage(`{"type":"integer"}`)})

	// Another manifest for the same version is refused; a new version is not.
	f.post("/register", protocol.RegisterRequest{Worker: protocol.WorkerInfo{ID: "py-2"},
		Workflows: []protocol.HostedWorkflow{{Name: "typed", Version: 1, ExpectSteps: []string{"a", "b"}}}},
		http.StatusConflict, nil).wantProblem(t, http.StatusConflict, "manifest-conflict", "new version")
	f.post("/claim", protocol.ClaimRequest{WorkerID: "py-1", Workflows: []string{"nobody"}, Limit: 1}, http.StatusNotFound, nil).
		wantProblem(t, http.StatusNotFound, "nobody")

	id := f.enqueue("typed", `{}`)
	run := f.claim("typed", time.Second)[0]
	f.post("/runs/"+id+"/steps/1", checkpoint(run, 1, "a", `{"grade":1}`), http.StatusUnprocessableEntity, nil).
		wantProblem(t, http.StatusUnprocessableEntity, "invalid-output", "score")
	noName := checkpoint(run, 1, "a", `{}`)
	noName.Name = ""
	f.post("/runs/"+id+"/steps/1", noName, http.StatusUnprocessableEntity, nil)
	f.post("/runs/"+id+"/outcome", outcome(run, "finished"), http.StatusUnprocessableEntity, nil)
	notDone := outcome(run, protocol.ResultCompleted)
	notDone.Output, notDone.StepsDone = json.RawMessage(`1`), []int{1}
	f.post("/runs/"+id+"/outcome", notDone, http.StatusUnprocessableEntity, nil).wantProblem(t, http.StatusUnprocessableEntity, "step 1", "not in the step log")
	f.post("/runs/"+id+"/steps/1", checkpoint(run, 1, "a", `{"score":3}`), http.StatusOK, nil)
	wrongType := outcome(run, protocol.ResultCompleted)
	wrongType.Output, wrongType.StepsDone = json.RawMessage(`"three"`), []int{1}
	f.post("/runs/"+id+"/outcome", wrongType, http.StatusUnprocessableEntity, nil).wantProblem(t, http.StatusUnprocessableEntity, "invalid-output")

	stored := f.awaitStatus(id, klaxontype.RunStatusRunning)
	if stored.Epoch != run.Epoch {
		t.Fatalf("refused requests changed the run: %+v", stored)
	}
	steps, _ := f.store.StepList(context.Background(), id)
	if len(steps) != 1 {
		t.Fatalf("steps after refusals: %+v", steps)
	}
}

func TestWorkerTokensMayOnlyHostWorkflows(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "scoped"})
	f.do(http.MethodGet, klaxonhttp.APIPrefix+"/runs", workerSecret, "").wantProblem(t, http.StatusForbidden, "worker")
	f.do(http.MethodPost, klaxonhttp.APIPrefix+"/runs", workerSecret, `{"workflow":"scoped","input":1}`).wantProblem(t, http.StatusForbidden)
	for _, secret := range []string{operateSecret, adminSecret} {
		f.do(http.MethodPost, klaxonhttp.APIPrefix+"/worker/claim", secret, `{"worker_id":"x","workflows":["scoped"],"limit":1}`).
			wantProblem(t, http.StatusForbidden, "needs worker")
	}
}
