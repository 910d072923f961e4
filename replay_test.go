package klaxon_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// recorder counts the executions of each step and remembers their keys.
type recorder struct {
	mu   sync.Mutex
	runs map[string][]string // step name -> idempotency keys, one per execution
}

func (r *recorder) record(ctx context.Context, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runs == nil {
		r.runs = make(map[string][]string)
	}
	r.runs[name] = append(r.runs[name], klaxon.IdempotencyKey(ctx))
}

func (r *recorder) keys(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.runs[name]...)
}

// threeSteps is a workflow whose second step fails permanently while broken is
// set, as a bug fixed by a deploy would.
func threeSteps(name string, rec *recorder, broken *atomic.Bool) *klaxon.Workflow[string, string] {
	return klaxon.NewWorkflow(name, func(ctx context.Context, in string) (string, error) {
		a, err := klaxon.Step(ctx, "fetch", func(ctx context.Context) (string, error) {
			rec.record(ctx, "fetch")
			return in + ">fetch", nil
		})
		if err != nil {
			return "", err
		}
		b, err := klaxon.Step(ctx, "summarize", func(ctx context.Context) (string, error) {
			rec.record(ctx, "summarize")
			if broken.Load() {
				return "", klaxon.Permanent(errors.New("prompt template bug"))
			}
			return a + ">summarize", nil
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "store", func(ctx context.Context) (string, error) {
			rec.record(ctx, "store")
			return b + ">store", nil
		})
	}, fastRetry)
}

// deadEntry enqueues a run, waits for it to die and returns its open entry.
func deadEntry(t *testing.T, client *klaxon.Client, wf *klaxon.Workflow[string, string], input string) *klaxontype.DeadLetter {
	t.Helper()
	result, err := wf.Enqueue(context.Background(), client, input)
	if err != nil {
		t.Fatal(err)
	}
	if run := awaitRun(t, client, result.Run.ID); run.Status != klaxontype.RunStatusDead {
		t.Fatalf("run is %s, want dead", run.Status)
	}
	entries, err := client.DeadLetters(context.Background(), &klaxon.DeadLetterFilter{Workflow: wf.Name(), States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.RunID == result.Run.ID {
			return e
		}
	}
	t.Fatalf("no open entry for run %s", result.Run.ID)
	return nil
}

// Resume keeps the completed steps: after the fix, the run continues from the
// failed step with the same idempotency keys and a fresh retry budget.
func TestReplayResumeKeepsCompletedSteps(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var rec recorder
	var broken atomic.Bool
	broken.Store(true)
	wf := threeSteps("resume-me", &rec, &broken)
	client := startClient(t, st, nil, wf)
	entry := deadEntry(t, client, wf, "doc")

	plan, err := client.PlanReplay(context.Background(), entry.ID, klaxon.ReplayOptions{})
	if err != nil || strings.Join(plan.KeptSteps, ",") != "fetch" || strings.Join(plan.RerunSteps, ",") != "summarize" || plan.NewIdempotencyKeys {
		t.Fatalf("plan = %+v, %v", plan, err)
	}
	broken.Store(false)
	replayed, err := client.Replay(context.Background(), entry.ID, klaxon.ReplayOptions{Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if replayed.State != klaxontype.DeadLetterReplayed || replayed.ReplayRunID != entry.RunID || replayed.ClosedBy != "alice" || replayed.ReplayMode != klaxontype.ReplayResume {
		t.Fatalf("replayed entry = %+v", replayed)
	}
	out, err := wf.Await(context.Background(), client, entry.RunID)
	if err != nil || out != "doc>fetch>summarize>store" {
		t.Fatalf("output %q, %v", out, err)
	}
	if fetches := rec.keys("fetch"); len(fetches) != 1 {
		t.Fatalf("fetch ran %d times; resume must not run completed steps", len(fetches))
	}
	if keys := rec.keys("summarize"); len(keys) != 2 || keys[0] != keys[1] {
		t.Fatalf("summarize keys %v; resume keeps the step's key", keys)
	}
	events := eventTypes(t, st, entry.RunID)
	if !containsInOrder(events, "run.dead", "dlq.replayed", "run.claimed", "run.completed") {
		t.Fatalf("events = %v", events)
	}
}

// From-step discards a step and the later ones; they run again under a new
// generation of idempotency keys.
func TestReplayFromStepRunsStepsAgainWithNewKeys(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var rec recorder
	var broken atomic.Bool
	broken.Store(true)
	wf := threeSteps("from-step", &rec, &broken)
	client := startClient(t, st, nil, wf)
	entry := deadEntry(t, client, wf, "doc")
	broken.Store(false)

	if _, err := client.Replay(context.Background(), entry.ID, klaxon.ReplayOptions{Mode: klaxontype.ReplayFromStep, Step: "nope"}); !errors.Is(err, klaxontype.ErrInvalid) {
		t.Fatalf("from an unknown step: err = %v", err)
	}
	if _, err := client.Replay(context.Background(), entry.ID, klaxon.ReplayOptions{Mode: klaxontype.ReplayFromStep, Step: "fetch", Input: []byte(`"edited"`)}); err != nil {
		t.Fatal(err)
	}
	out, err := wf.Await(context.Background(), client, entry.RunID)
	if err != nil || out != "edited>fetch>summarize>store" {
		t.Fatalf("output %q, %v", out, err)
	}
	keys := rec.keys("fetch")
	if len(keys) != 2 || keys[1] != keys[0]+"/g1" {
		t.Fatalf("fetch keys %v; the rerun needs the next generation's key", keys)
	}
}

// Restart creates a new run linked to the dead one, which stays dead.
func TestReplayRestartCreatesLinkedRun(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var rec recorder
	var broken atomic.Bool
	broken.Store(true)
	wf := threeSteps("restart-me", &rec, &broken)
	client := startClient(t, st, nil, wf)
	entry := deadEntry(t, client, wf, "doc")
	broken.Store(false)
	replayed, err := client.Replay(context.Background(), entry.ID, klaxon.ReplayOptions{Mode: klaxontype.ReplayRestart})
	if err != nil {
		t.Fatal(err)
	}
	if replayed.ReplayRunID == "" || replayed.ReplayRunID == entry.RunID {
		t.Fatalf("restart links to %q", replayed.ReplayRunID)
	}
	if _, err := wf.Await(context.Background(), client, replayed.ReplayRunID); err != nil {
		t.Fatal(err)
	}
	fresh, _ := client.Run(context.Background(), replayed.ReplayRunID)
	old, _ := client.Run(context.Background(), entry.RunID)
	if fresh.ReplayOf != entry.RunID || old.Status != klaxontype.RunStatusDead {
		t.Fatalf("new run replays %q, old run is %s", fresh.ReplayOf, old.Status)
	}
}

// Replaying one entry many times at once creates one replay.
func TestConcurrentReplayOfOneEntryReplaysOnce(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var rec recorder
	var broken atomic.Bool
	broken.Store(true)
	wf := threeSteps("race", &rec, &broken)
	client := startClient(t, st, nil, wf)
	entry := deadEntry(t, client, wf, "doc")
	var succeeded, refused atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			_, err := client.Replay(context.Background(), entry.ID, klaxon.ReplayOptions{Mode: klaxontype.ReplayRestart})
			switch {
			case err == nil:
				succeeded.Add(1)
			case errors.Is(err, klaxontype.ErrEntryNotOpen):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if succeeded.Load() != 1 || refused.Load() != 15 {
		t.Fatalf("%d replays succeeded and %d were refused; want 1 and 15", succeeded.Load(), refused.Load())
	}
	runs, _ := st.RunList(context.Background(), &store.RunListParams{Workflow: "race"})
	if len(runs) != 2 {
		t.Fatalf("%d runs exist; one restart should have made exactly one more", len(runs))
	}
}

// Bulk replay takes a filter; a dry run counts and changes nothing.
func TestBulkReplayWithFilterAndDryRun(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var failPolicy atomic.Bool
	failPolicy.Store(true)
	wf := klaxon.NewWorkflow("bulk", func(ctx context.Context, kind string) (string, error) {
		return klaxon.Step(ctx, "moderate", func(context.Context) (string, error) {
			if !failPolicy.Load() {
				return "ok", nil
			}
			if kind == "policy" {
				return "", klaxon.PolicyViolation(errors.New("refused by the content filter"))
			}
			return "", klaxon.Permanent(errors.New("bad document"))
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	ctx := context.Background()
	var ids []string
	for i := range 15 {
		kind := "permanent"
		if i%3 == 0 {
			kind = "policy"
		}
		result, _ := wf.Enqueue(ctx, client, kind)
		ids = append(ids, result.Run.ID)
	}
	for _, id := range ids {
		awaitRun(t, client, id)
	}
	permanent := &klaxon.DeadLetterFilter{Classes: []klaxontype.FailureClass{klaxontype.ClassPermanent}}
	dry, err := client.ReplayMatching(ctx, permanent, klaxon.ReplayOptions{}, true)
	if err != nil || dry.Matched != 10 || dry.Replayed != 0 || len(dry.EntryIDs) != 10 {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	open, _ := client.DeadLetters(ctx, &klaxon.DeadLetterFilter{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}})
	if len(open) != 15 {
		t.Fatalf("after the dry run %d entries are open, want all 15", len(open))
	}
	failPolicy.Store(false)
	done, err := client.ReplayMatching(ctx, permanent, klaxon.ReplayOptions{Actor: "bob"}, false)
	if err != nil || done.Replayed != 10 || len(done.Failed) != 0 {
		t.Fatalf("bulk replay = %+v, %v", done, err)
	}
	for _, id := range done.EntryIDs {
		entry, _ := client.DeadLetter(ctx, id)
		if run := awaitRun(t, client, entry.RunID); run.Status != klaxontype.RunStatusCompleted {
			t.Fatalf("replayed run %s is %s", run.ID, run.Status)
		}
	}
	stillOpen, _ := client.DeadLetters(ctx, &klaxon.DeadLetterFilter{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}})
	if len(stillOpen) != 5 {
		t.Fatalf("%d entries open after replaying the permanent ones, want the 5 policy violations", len(stillOpen))
	}
	for _, e := range stillOpen {
		if e.Class != klaxontype.ClassPolicyViolation || e.Channel != "security" {
			t.Fatalf("left open: %+v", e)
		}
	}
}

// DiscardMatching closes every open entry matching a filter, after a dry
// run that changes nothing; the runs stay dead and each entry records who
// and why.
func TestBulkDiscardWithFilterAndDryRun(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	wf := klaxon.NewWorkflow("discard-many", func(ctx context.Context, kind string) (string, error) {
		return klaxon.Step(ctx, "moderate", func(context.Context) (string, error) {
			if kind == "policy" {
				return "", klaxon.PolicyViolation(errors.New("refused by the content filter"))
			}
			return "", klaxon.Permanent(errors.New("bad document"))
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	ctx := context.Background()
	var ids []string
	for i := range 12 {
		kind := "permanent"
		if i%4 == 0 {
			kind = "policy"
		}
		result, _ := wf.Enqueue(ctx, client, kind)
		ids = append(ids, result.Run.ID)
	}
	for _, id := range ids {
		awaitRun(t, client, id)
	}
	permanent := &klaxon.DeadLetterFilter{Classes: []klaxontype.FailureClass{klaxontype.ClassPermanent}}
	if _, err := client.DiscardMatching(ctx, permanent, "  ", "bob", false); !errors.Is(err, klaxontype.ErrInvalid) {
		t.Fatalf("a discard without a reason: %v; want ErrInvalid", err)
	}
	dry, err := client.DiscardMatching(ctx, permanent, "known bad batch", "bob", true)
	if err != nil || dry.Matched != 9 || dry.Discarded != 0 || len(dry.EntryIDs) != 9 {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	open := []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}
	if got, _ := client.DeadLetters(ctx, &klaxon.DeadLetterFilter{States: open}); len(got) != 12 {
		t.Fatalf("after the dry run %d entries are open, want all 12", len(got))
	}
	done, err := client.DiscardMatching(ctx, permanent, "known bad batch", "bob", false)
	if err != nil || done.Discarded != 9 || done.Skipped != 0 || len(done.Failed) != 0 {
		t.Fatalf("bulk discard = %+v, %v", done, err)
	}
	for _, id := range done.EntryIDs {
		entry, _ := client.DeadLetter(ctx, id)
		if entry.State != klaxontype.DeadLetterDiscarded || entry.ClosedBy != "bob" || entry.CloseReason != "known bad batch" {
			t.Fatalf("entry %s after the discard: %+v", id, entry)
		}
		if run, _ := client.Run(ctx, entry.RunID); run.Status != klaxontype.RunStatusDead {
			t.Fatalf("run %s is %s after its entry was discarded; want dead", run.ID, run.Status)
		}
	}
	left, _ := client.DeadLetters(ctx, &klaxon.DeadLetterFilter{States: open})
	if len(left) != 3 {
		t.Fatalf("%d entries open after discarding the permanent ones, want the 3 policy violations", len(left))
	}
	again, err := client.DiscardMatching(ctx, permanent, "known bad batch", "bob", false)
	if err != nil || again.Matched != 0 {
		t.Fatalf("a second discard matched %+v, %v; want nothing left", again, err)
	}
}

// Resolve records a person's output for the failed step; the run continues
// from there, without running the completed steps or the resolved one.
func TestResolveContinuesTheRun(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var rec recorder
	var broken atomic.Bool
	broken.Store(true)
	wf := threeSteps("resolve-me", &rec, &broken)
	client := startClient(t, st, nil, wf)
	entry := deadEntry(t, client, wf, "doc")
	ctx := context.Background()

	for _, bad := range []struct {
		step, output string
	}{{"summarize", `42`}, {"summarize", `{"not": "a string"}`}, {"fetch", `"x"`}, {"summarize", `not json`}} {
		if _, err := client.Resolve(ctx, entry.ID, bad.step, []byte(bad.output), "carol"); !errors.Is(err, klaxontype.ErrInvalid) {
			t.Fatalf("resolve %s with %s: err = %v", bad.step, bad.output, err)
		}
	}
	if still, _ := client.DeadLetter(ctx, entry.ID); still.State != klaxontype.DeadLetterOpen {
		t.Fatalf("a refused resolve changed the entry to %s", still.State)
	}

	resolved, err := client.Resolve(ctx, entry.ID, "summarize", []byte(`"written by hand"`), "carol")
	if err != nil {
		t.Fatal(err)
	}
	if resolved.State != klaxontype.DeadLetterResolved || resolved.ClosedBy != "carol" {
		t.Fatalf("entry = %+v", resolved)
	}
	out, err := wf.Await(ctx, client, entry.RunID)
	if err != nil || out != "written by hand>store" {
		t.Fatalf("output %q, %v", out, err)
	}
	if n := len(rec.keys("fetch")); n != 1 {
		t.Fatalf("fetch ran %d times after resolve", n)
	}
	if n := len(rec.keys("summarize")); n != 1 {
		t.Fatalf("summarize ran %d times; the resolved step must not run again", n)
	}
	steps, _ := st.StepList(ctx, entry.RunID)
	if len(steps) != 3 || steps[1].ResolvedBy != "carol" || steps[1].IdempotencyKey != entry.RunID+"/2/summarize" {
		t.Fatalf("step log = %+v", steps)
	}
}

// A replay's edited input through a client without the workflow's code (as
// the CLI and the server are) is checked against the input schema the
// workers recorded: a misfit is refused with ErrInvalid naming the path, and
// nothing changes; a fitting one is replayed.
func TestReplayInputIsCheckedWithoutTheWorkflowsCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	wf := klaxon.NewWorkflow("typed-input", func(ctx context.Context, in struct {
		Pages int `json:"pages"`
	}) (int, error) {
		return klaxon.Step(ctx, "count", func(ctx context.Context) (int, error) {
			if in.Pages == 0 {
				return 0, klaxon.Permanent(errors.New("no pages"))
			}
			return in.Pages, nil
		})
	}, fastRetry)
	worker := startClient(t, st, nil, wf)
	result, err := worker.Enqueue(ctx, "typed-input", []byte(`{"pages": 0}`))
	if err != nil {
		t.Fatal(err)
	}
	awaitRun(t, worker, result.Run.ID)
	entries, _ := worker.DeadLetters(ctx, &klaxon.DeadLetterFilter{Workflow: "typed-input"})
	if len(entries) != 1 {
		t.Fatalf("%d entries; want 1", len(entries))
	}
	remote, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Replay(ctx, entries[0].ID, klaxon.ReplayOptions{Input: []byte(`{"pages": "ten"}`), Actor: "alice"})
	if !errors.Is(err, klaxontype.ErrInvalid) || !strings.Contains(err.Error(), "/pages") {
		t.Fatalf("replay with a misfit input: %v; want ErrInvalid naming /pages", err)
	}
	entry, _ := remote.DeadLetter(ctx, entries[0].ID)
	run, _ := remote.Run(ctx, result.Run.ID)
	if entry.State != klaxontype.DeadLetterOpen || run.Status != klaxontype.RunStatusDead || string(run.Input) != `{"pages": 0}` {
		t.Fatalf("after a refused replay: entry %s, run %s with input %s; want nothing changed", entry.State, run.Status, run.Input)
	}
	if _, err := remote.Replay(ctx, entries[0].ID, klaxon.ReplayOptions{Input: []byte(`{"pages": 3}`), Actor: "alice"}); err != nil {
		t.Fatalf("replay with a fitting input: %v", err)
	}
	if run := awaitRun(t, worker, result.Run.ID); run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("replayed run %s; want completed", run.Status)
	}
}

// A bulk action confirmed with its dry run's snapshot (the entry IDs it
// listed) acts on exactly those entries: not on one that started matching
// since, and an entry someone closed in between is skipped, and counted so.
func TestBulkActionActsOnItsDryRunsSnapshot(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	wf := klaxon.NewWorkflow("snapshot", func(ctx context.Context, _ string) (string, error) {
		return klaxon.Step(ctx, "moderate", func(context.Context) (string, error) {
			return "", klaxon.Permanent(errors.New("bad document"))
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	ctx := context.Background()
	for range 3 {
		deadEntry(t, client, wf, "doc")
	}
	permanent := &klaxon.DeadLetterFilter{Classes: []klaxontype.FailureClass{klaxontype.ClassPermanent}}
	dry, err := client.DiscardMatching(ctx, permanent, "known bad batch", "bob", true)
	if err != nil || dry.Matched != 3 || len(dry.EntryIDs) != 3 {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	// In between, someone discards one entry and a new one starts matching.
	if _, err := client.Discard(ctx, dry.EntryIDs[0], "handled by hand", "carol"); err != nil {
		t.Fatal(err)
	}
	newcomer := deadEntry(t, client, wf, "late doc")

	confirmed := *permanent
	confirmed.EntryIDs = dry.EntryIDs
	done, err := client.DiscardMatching(ctx, &confirmed, "known bad batch", "bob", false)
	if err != nil || done.Matched != 3 || done.Discarded != 2 || done.Skipped != 1 || len(done.Failed) != 0 {
		t.Fatalf("confirmed discard = %+v, %v; want 2 of the snapshot discarded, 1 skipped", done, err)
	}
	if entry, _ := client.DeadLetter(ctx, newcomer.ID); entry.State != klaxontype.DeadLetterOpen {
		t.Fatalf("an entry outside the snapshot was %s; want it left open", entry.State)
	}
	if entry, _ := client.DeadLetter(ctx, dry.EntryIDs[0]); entry.ClosedBy != "carol" {
		t.Fatalf("the entry closed in between was closed again by %q", entry.ClosedBy)
	}
}
