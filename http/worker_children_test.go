package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
)

// childStart is a start of a child run from a claimed parent's step.
func childStart(run protocol.ClaimedRun, name, workflow, input string) protocol.ChildStartRequest {
	return protocol.ChildStartRequest{
		WorkerID: "py-1", Workflow: run.Workflow, Attempt: run.Attempt, Epoch: run.Epoch,
		Name: name, ChildWorkflow: workflow, Input: json.RawMessage(input),
	}
}

// childAwait awaits children from a claimed parent.
func childAwait(run protocol.ClaimedRun, awaits ...protocol.ChildAwait) protocol.ChildAwaitRequest {
	return protocol.ChildAwaitRequest{WorkerID: "py-1", Workflow: run.Workflow, Attempt: run.Attempt, Epoch: run.Epoch, Awaits: awaits}
}

// children are the statuses of a run's children, in order.
func (f *workerFixture) children(runID string) []string {
	f.t.Helper()
	family, err := f.store.RunFamily(context.Background(), runID)
	if err != nil {
		f.t.Fatal(err)
	}
	statuses := []string{}
	for _, child := range family.Children {
		statuses = append(statuses, child.ChildID+" "+string(child.Status))
	}
	return statuses
}

func TestWorkerChildStartIsIdempotentFencedAndRefusesBadChildren(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(
		protocol.HostedWorkflow{Name: "parent"},
		protocol.HostedWorkflow{Name: "leaf", InputSchema: json.RawMessage(`{"type":"object","required":["n"]}`)},
	)
	id := f.enqueue("parent", `{}`)
	run := f.claimOne("parent")

	var started protocol.ChildStartAnswer
	f.post("/runs/"+id+"/children/1", childStart(run, "kid", "leaf", `{"n":1}`), http.StatusOK, &started)
	if started.State != protocol.ChildStarted || started.RunID == "" || started.ChildWorkflow != "leaf" || started.Duplicate {
		t.Fatalf("the start answered %+v", started)
	}
	// Repeated after a lost answer: the same child, nothing started.
	var again protocol.ChildStartAnswer
	f.post("/runs/"+id+"/children/1", childStart(run, "kid", "leaf", `{"n":1}`), http.StatusOK, &again)
	if again.State != protocol.ChildStarted || again.RunID != started.RunID || !again.Duplicate {
		t.Fatalf("the repeated start answered %+v; first %+v", again, started)
	}
	want := []string{started.RunID + " pending"}
	if got := f.children(id); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("children %v, want %v", got, want)
	}
	// Another step at the sequence is nondeterminism.
	f.post("/runs/"+id+"/children/1", childStart(run, "other", "leaf", `{"n":1}`), http.StatusConflict, nil).
		wantProblem(t, http.StatusConflict, "nondeterminism", "kid", "other")

	// Bad children are the step's permanent failure, and start nothing.
	for seq, bad := range map[string]protocol.ChildStartRequest{
		"2": childStart(run, "ghost", "no-such-workflow", `{}`),
		"3": childStart(run, "sloppy", "leaf", `{"m":1}`),
	} {
		var refused protocol.ChildStartAnswer
		f.post("/runs/"+id+"/children/"+seq, bad, http.StatusOK, &refused)
		if refused.State != protocol.ChildRefused || refused.Class != klaxontype.ClassPermanent ||
			!strings.Contains(refused.Message, `child run of workflow "`+bad.ChildWorkflow+`"`) || refused.RunID != "" {
			t.Errorf("a bad child (%s) answered %+v", bad.ChildWorkflow, refused)
		}
	}
	if got := f.children(id); len(got) != 1 {
		t.Fatalf("bad children were started: %v", got)
	}

	// A stale epoch starts nothing.
	stale := run
	stale.Epoch++
	f.post("/runs/"+id+"/children/4", childStart(stale, "late", "leaf", `{"n":2}`), http.StatusConflict, nil).
		wantProblem(t, http.StatusConflict, "lease-lost")
	// Malformed requests are refused.
	f.post("/runs/"+id+"/children/4", childStart(run, "x", "", `{}`), http.StatusUnprocessableEntity, nil)
	f.post("/runs/"+id+"/awaits/4", childAwait(run), http.StatusUnprocessableEntity, nil)
	f.post("/runs/"+id+"/awaits/4", childAwait(run, protocol.ChildAwait{Name: "kid", ChildRunID: "01NOSUCHRUN"}), http.StatusUnprocessableEntity, nil).
		wantProblem(t, http.StatusUnprocessableEntity, "invalid", "01NOSUCHRUN")
	// A run no step of the parent started is not its child to await.
	stranger := f.enqueue("leaf", `{"n":3}`)
	f.post("/runs/"+id+"/awaits/4", childAwait(run, protocol.ChildAwait{Name: "kid", ChildRunID: stranger}), http.StatusUnprocessableEntity, nil).
		wantProblem(t, http.StatusUnprocessableEntity, "invalid", stranger)
	if got := f.children(id); len(got) != 1 {
		t.Fatalf("refused requests started children: %v", got)
	}
}

func TestWorkerChildAwaitWaitsWithoutALeaseAndHandsBackTheOutputs(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "parent"}, protocol.HostedWorkflow{Name: "leaf"})
	id := f.enqueue("parent", `{}`)
	run := f.claimOne("parent")
	var a, b protocol.ChildStartAnswer
	f.post("/runs/"+id+"/children/1", childStart(run, "a", "leaf", `1`), http.StatusOK, &a)
	f.post("/runs/"+id+"/children/2", childStart(run, "b", "leaf", `2`), http.StatusOK, &b)

	awaits := []protocol.ChildAwait{{Name: "a", ChildRunID: a.RunID}, {Name: "b", ChildRunID: b.RunID, TimeoutMS: 60_000}}
	var answer protocol.ChildAwaitAnswer
	f.post("/runs/"+id+"/awaits/3", childAwait(run, awaits...), http.StatusOK, &answer)
	if answer.State != protocol.WaitWaiting {
		t.Fatalf("awaiting open children answered %+v", answer)
	}
	f.awaitStatus(id, klaxontype.RunStatusWaiting)

	// The children complete; the parent is woken once, when the last ends.
	leaves := f.claim("leaf", 0)
	if len(leaves) != 2 {
		t.Fatalf("claimed %d children, want 2", len(leaves))
	}
	for _, child := range leaves {
		out := outcome(child, protocol.ResultCompleted)
		out.Output = json.RawMessage(`{"doubled":` + string(child.Input) + `}`)
		f.post("/runs/"+child.RunID+"/outcome", out, http.StatusOK, nil)
	}
	resumed := f.claimOne("parent")
	if resumed.Attempt != run.Attempt || len(resumed.Steps) != 4 {
		t.Fatalf("the resumed parent: attempt %d, steps %+v", resumed.Attempt, resumed.Steps)
	}
	f.post("/runs/"+id+"/awaits/3", childAwait(resumed, awaits...), http.StatusOK, &answer)
	if answer.State != protocol.WaitSatisfied || len(answer.Outputs) != 2 ||
		string(answer.Outputs[0]) != `{"doubled":1}` || string(answer.Outputs[1]) != `{"doubled":2}` {
		t.Fatalf("awaiting ended children answered %+v", answer)
	}
}
