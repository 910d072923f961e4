package klaxon_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// blockingWorkflow completes a first step, then blocks in a second one until
// its context ends; started is closed when the second step begins, and
// stopped when it sees its context end.
type blockingWorkflow struct {
	wf       *klaxon.Workflow[int, string]
	started  chan struct{}
	stopped  chan error
	calls    atomic.Int32
	outcomes chan *klaxontype.AttemptOutcome
}

func newBlockingWorkflow(name string) *blockingWorkflow {
	b := &blockingWorkflow{started: make(chan struct{}), stopped: make(chan error, 1), outcomes: make(chan *klaxontype.AttemptOutcome, 10)}
	b.wf = klaxon.NewWorkflow(name, func(ctx context.Context, _ int) (string, error) {
		if _, err := klaxon.Step(ctx, "fetch", func(ctx context.Context) (int, error) { return 3, nil }); err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "summarize", func(ctx context.Context) (string, error) {
			if b.calls.Add(1) == 1 {
				close(b.started)
			}
			<-ctx.Done()
			b.stopped <- context.Cause(ctx)
			return "", ctx.Err()
		})
	}, fastRetry)
	return b
}

func (b *blockingWorkflow) config() *klaxon.Config {
	config := fastConfig()
	config.OnAttempt = func(o *klaxontype.AttemptOutcome) { b.outcomes <- o }
	return config
}

// awaitStarted waits until the blocking step runs.
func (b *blockingWorkflow) awaitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-b.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the blocking step never started")
	}
}

// checkStopped checks that the worker stopped the step within limit, that the
// attempt ended as a lost lease, and that nothing ran or was recorded after:
// the run stays cancelled with its first step only, no failed attempt, no
// retry and no dead-letter entry.
func (b *blockingWorkflow) checkStopped(t *testing.T, client *klaxon.Client, runID string, limit time.Duration) {
	t.Helper()
	select {
	case cause := <-b.stopped:
		if !errors.Is(cause, klaxontype.ErrLeaseLost) {
			t.Errorf("the step's context ended with %v; want the lease lost", cause)
		}
	case <-time.After(limit):
		t.Fatalf("the step still ran %s after the cancel", limit)
	}
	select {
	case o := <-b.outcomes:
		if o.RunID != runID || o.Result != klaxontype.AttemptLeaseLost {
			t.Errorf("attempt of run %s ended %s; want run %s, %s", o.RunID, o.Result, runID, klaxontype.AttemptLeaseLost)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the attempt never ended")
	}
	time.Sleep(200 * time.Millisecond) // many poll intervals: a retry would have started
	ctx := context.Background()
	st := client.Store()
	run, err := client.Run(ctx, runID)
	if err != nil || run.Status != klaxontype.RunStatusCancelled {
		t.Fatalf("run after the cancel: %+v, %v; want cancelled", run, err)
	}
	if calls := b.calls.Load(); calls != 1 {
		t.Errorf("the blocking step ran %d times; want once", calls)
	}
	if steps, _ := st.StepList(ctx, runID); len(steps) != 1 || steps[0].Name != "fetch" {
		t.Errorf("step log %+v; want fetch only", steps)
	}
	if attempts, _ := st.AttemptList(ctx, runID); len(attempts) != 0 {
		t.Errorf("failed attempts %+v; want none", attempts)
	}
	if entries, _ := client.DeadLetters(ctx, nil); len(entries) != 0 {
		t.Errorf("dead-letter entries %+v; want none", entries)
	}
	select {
	case o := <-b.outcomes:
		t.Errorf("another attempt ended after the cancel: %+v", o)
	default:
	}
}

// Cancelling a run that this client's worker executes stops the step at
// once; the run stays cancelled, and Await reports who cancelled it and why.
func TestCancelRunningRun(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	b := newBlockingWorkflow("cancel-running")
	client := startClient(t, st, b.config(), b.wf)
	ctx := context.Background()
	result, err := b.wf.Enqueue(ctx, client, 1)
	if err != nil {
		t.Fatal(err)
	}
	b.awaitStarted(t)

	run, err := client.Cancel(ctx, result.Run.ID, "the customer withdrew the document", "carol")
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if run.Status != klaxontype.RunStatusCancelled {
		t.Fatalf("Cancel returned a %s run", run.Status)
	}
	b.checkStopped(t, client, result.Run.ID, 2*time.Second)

	_, err = b.wf.Await(ctx, client, result.Run.ID)
	var failed *klaxon.RunFailedError
	if !errors.As(err, &failed) || !strings.Contains(err.Error(), "cancelled by carol: the customer withdrew the document") {
		t.Errorf("Await: %v; want a RunFailedError saying who cancelled and why", err)
	}
	events, _ := st.EventList(ctx, result.Run.ID)
	var cancelled []*klaxontype.Event
	for _, event := range events {
		if event.Type == klaxontype.EventRunCancelled {
			cancelled = append(cancelled, event)
		}
	}
	if len(cancelled) != 1 || cancelled[0].Actor != "carol" || !strings.Contains(cancelled[0].Message, "running") {
		t.Errorf("run.cancelled events %+v; want one by carol, cancelled while running", cancelled)
	}
}

// A cancel through another client, as the HTTP API or the CLI makes it,
// reaches the executing worker at its next heartbeat.
func TestCancelFromAnotherClient(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	b := newBlockingWorkflow("cancel-elsewhere")
	config := b.config()
	config.HeartbeatInterval = 50 * time.Millisecond
	worker := startClient(t, st, config, b.wf)
	admin, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	result, err := b.wf.Enqueue(ctx, worker, 1)
	if err != nil {
		t.Fatal(err)
	}
	b.awaitStarted(t)
	if _, err := admin.Cancel(ctx, result.Run.ID, "", ""); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	b.checkStopped(t, worker, result.Run.ID, 5*time.Second)
}

// A pending run cancelled before any worker took it is never executed, and
// Await returns for it; ended and unknown runs are refused.
func TestCancelRefusals(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var executed sync.Map
	wf := klaxon.NewWorkflow("cancel-pending", func(ctx context.Context, n int) (int, error) {
		executed.Store(n, true)
		return n, nil
	})
	client := startClient(t, st, nil, wf)
	ctx := context.Background()

	delayed, err := wf.Enqueue(ctx, client, 1, klaxon.WithDelay(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Cancel(ctx, delayed.Run.ID, "not needed", "carol"); err != nil {
		t.Fatalf("Cancel of a pending run: %v", err)
	}
	awaitCtx, stop := context.WithTimeout(ctx, 5*time.Second)
	defer stop()
	if _, err := wf.Await(awaitCtx, client, delayed.Run.ID); !strings.Contains(fmtErr(err), "cancelled by carol: not needed") {
		t.Errorf("Await of a cancelled run: %v; want it cancelled by carol", err)
	}
	time.Sleep(500 * time.Millisecond) // past the delay
	if _, ok := executed.Load(1); ok {
		t.Error("a cancelled pending run was executed")
	}

	done, _ := wf.Enqueue(ctx, client, 2)
	completed := awaitRun(t, client, done.Run.ID)
	_, err = client.Cancel(ctx, done.Run.ID, "too late", "carol")
	if !errors.Is(err, klaxontype.ErrRunNotCancellable) || !strings.Contains(err.Error(), "completed") {
		t.Errorf("Cancel of a completed run: %v; want ErrRunNotCancellable naming its status", err)
	}
	if after, _ := client.Run(ctx, done.Run.ID); after.Status != klaxontype.RunStatusCompleted || !after.UpdatedAt.Equal(completed.UpdatedAt) {
		t.Errorf("a refused cancel changed the run: %+v", after)
	}
	if _, err := client.Cancel(ctx, "01JUNKNOWNRUN00000000000000", "", ""); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Errorf("Cancel of an unknown run: %v; want ErrNotFound", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
