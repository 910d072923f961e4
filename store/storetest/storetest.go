// Package storetest is the conformance suite of store.Store. It runs unchanged
// against every store (SQLite, PostgreSQL) and checks only what the Store
// interface and the klaxontype records promise, never how a store keeps them.
//
// It may import only the standard library, klaxontype and store.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Run runs the conformance suite against stores made by newStore; each call
// of newStore must return a new, empty store (own file / own schema). rows
// reads a store's database behind its back, for the tests that a refused
// write changes nothing; nil skips them, saying so.
//
// The subtests run in parallel, each on a store of its own, and the suite
// closes every store it was given when the subtest that asked for it ends.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, rows Rows) {
	h := &harness{newStore: newStore, rows: rows}
	t.Run("Workflows", func(t *testing.T) { testWorkflows(t, h) })
	t.Run("Runs", func(t *testing.T) { testRuns(t, h) })
	t.Run("Claims", func(t *testing.T) { testClaims(t, h) })
	t.Run("Priorities", func(t *testing.T) { testPriorities(t, h) })
	t.Run("ConcurrencyKeys", func(t *testing.T) { testConcurrencyKeys(t, h) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, h) })
	t.Run("Steps", func(t *testing.T) { testSteps(t, h) })
	t.Run("Outcomes", func(t *testing.T) { testOutcomes(t, h) })
	t.Run("CompletionRecords", func(t *testing.T) { testCompletionRecords(t, h) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, h) })
	t.Run("Compensation", func(t *testing.T) { testCompensation(t, h) })
	t.Run("Fencing", func(t *testing.T) { testFencing(t, h) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, h) })
	t.Run("DeadLetters", func(t *testing.T) { testDeadLetters(t, h) })
	t.Run("DLQList", func(t *testing.T) { testDLQList(t, h) })
	t.Run("DLQGroups", func(t *testing.T) { testDLQGroups(t, h) })
	t.Run("DLQReplay", func(t *testing.T) { testDLQReplay(t, h) })
	t.Run("DLQResolve", func(t *testing.T) { testDLQResolve(t, h) })
	t.Run("DLQDiscard", func(t *testing.T) { testDLQDiscard(t, h) })
	t.Run("DLQClosed", func(t *testing.T) { testDLQClosed(t, h) })
	t.Run("DLQPurge", func(t *testing.T) { testDLQPurge(t, h) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, h) })
	t.Run("OutboxAdmin", func(t *testing.T) { testOutboxAdmin(t, h) })
	t.Run("Breakers", func(t *testing.T) { testBreakers(t, h) })
	t.Run("Spend", func(t *testing.T) { testSpend(t, h) })
	t.Run("BreakerTally", func(t *testing.T) { testBreakerTally(t, h) })
	t.Run("Counts", func(t *testing.T) { testCounts(t, h) })
	t.Run("Alerts", func(t *testing.T) { testAlerts(t, h) })
	t.Run("Stats", func(t *testing.T) { testStats(t, h) })
	t.Run("Refusals", func(t *testing.T) { testRefusals(t, h) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, h) })
	t.Run("Retention", func(t *testing.T) { testRetention(t, h) })
	t.Run("Totals", func(t *testing.T) { testTotals(t, h) })
	t.Run("AuditEnqueuesAndRequests", func(t *testing.T) { testAuditEnqueuesAndRequests(t, h) })
	t.Run("Workers", func(t *testing.T) { testWorkers(t, h) })
	t.Run("Waits", func(t *testing.T) { testWaits(t, h) })
	t.Run("Schedules", func(t *testing.T) { testSchedules(t, h) })
	t.Run("Children", func(t *testing.T) { testChildren(t, h) })
	t.Run("RateLimits", func(t *testing.T) { testRateLimits(t, h) })
	t.Run("HostileText", func(t *testing.T) { testHostileText(t, h) })
	t.Run("Close", func(t *testing.T) { testClose(t, h) })
}

const (
	// testWorkflow is the workflow of a run unless a test names another.
	testWorkflow = "summarize"
	holderA      = "worker-a"
	holderB      = "worker-b"
	holderC      = "worker-c"
	// longLease outlives any test, so that a run held under it is never
	// reclaimed behind the test's back.
	longLease = time.Minute
	// shortLease expires quickly, for the tests of reclaiming.
	shortLease = 50 * time.Millisecond
	// awaitTimeout bounds how long a test polls for a lease or a backoff to run
	// out; it is far longer than either, for slow machines under -race.
	awaitTimeout = 5 * time.Second
	pollInterval = 5 * time.Millisecond
)

// harness makes the stores of the suite.
type harness struct {
	newStore func(t *testing.T) store.Store
	rows     Rows
}

// fixture is one subtest's store with shortcuts to drive it. Its helpers fail
// the test when the store refuses a write the test needs.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	store store.Store
}

// fixture opens a new empty store that is closed when t ends.
func (h *harness) fixture(t *testing.T) *fixture {
	t.Helper()
	f := h.unmanagedFixture(t)
	t.Cleanup(func() {
		if err := f.store.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return f
}

// unmanagedFixture opens a new empty store that the test must close itself.
func (h *harness) unmanagedFixture(t *testing.T) *fixture {
	t.Helper()
	s := h.newStore(t)
	if s == nil {
		t.Fatal("newStore returned a nil store")
	}
	return &fixture{t: t, ctx: t.Context(), store: s}
}

// enqueue creates a run, of testWorkflow with a small input unless params say
// otherwise, and fails the test unless the store created it.
func (f *fixture) enqueue(params *store.RunEnqueueParams) *klaxontype.Run {
	f.t.Helper()
	p := store.RunEnqueueParams{}
	if params != nil {
		p = *params
	}
	if p.ID == "" {
		p.ID = newRunID()
	}
	if p.Workflow == "" {
		p.Workflow = testWorkflow
	}
	if p.WorkflowVersion == 0 {
		p.WorkflowVersion = 1
	}
	if p.Input == nil {
		p.Input = []byte(`{"document_id": 42}`)
	}
	if p.Actor == "" {
		p.Actor = "client"
	}
	run, created, err := f.store.RunEnqueue(f.ctx, &p)
	if err != nil {
		f.t.Fatalf("RunEnqueue %s: %v", p.ID, err)
	}
	if !created || run == nil || run.ID != p.ID {
		f.t.Fatalf("RunEnqueue %s: created %v, run %+v; want the new run", p.ID, created, run)
	}
	return run
}

// get returns a run that must exist.
func (f *fixture) get(id string) *klaxontype.Run {
	f.t.Helper()
	run, err := f.store.RunGet(f.ctx, id)
	if err != nil {
		f.t.Fatalf("RunGet %s: %v", id, err)
	}
	return run
}

// list returns the runs RunList finds.
func (f *fixture) list(params *store.RunListParams) []*klaxontype.Run {
	f.t.Helper()
	runs, err := f.store.RunList(f.ctx, params)
	if err != nil {
		f.t.Fatalf("RunList %+v: %v", params, err)
	}
	return runs
}

// claim asks for up to limit runs of the workflows, testWorkflow when none is
// named.
func (f *fixture) claim(holder string, limit int, lease time.Duration, workflows ...string) []*store.ClaimedRun {
	f.t.Helper()
	if len(workflows) == 0 {
		workflows = []string{testWorkflow}
	}
	claimed, err := f.store.RunsClaim(f.ctx, &store.RunsClaimParams{
		Holder: holder, Workflows: workflows, Limit: limit, LeaseDuration: lease,
	})
	if err != nil {
		f.t.Fatalf("RunsClaim by %s: %v", holder, err)
	}
	return claimed
}

// claimRun claims for holder the one run the store should hand out next of the
// run's workflow, and fails the test if it hands out anything else.
func (f *fixture) claimRun(run *klaxontype.Run, holder string, lease time.Duration) *store.ClaimedRun {
	f.t.Helper()
	claimed := f.claim(holder, 1, lease, run.Workflow)
	if len(claimed) != 1 || claimed[0].Run.ID != run.ID {
		f.t.Fatalf("RunsClaim by %s returned %v; want run %s", holder, claimedIDs(claimed), run.ID)
	}
	return claimed[0]
}

// awaitClaim polls until holder claims the run, which becomes claimable only
// once a lease or a backoff runs out.
func (f *fixture) awaitClaim(run *klaxontype.Run, holder string) *store.ClaimedRun {
	f.t.Helper()
	deadline := time.Now().Add(awaitTimeout)
	for {
		claimed := f.claim(holder, 1, longLease, run.Workflow)
		switch {
		case len(claimed) == 1 && claimed[0].Run.ID == run.ID:
			return claimed[0]
		case len(claimed) > 0:
			f.t.Fatalf("RunsClaim by %s returned %v; want run %s", holder, claimedIDs(claimed), run.ID)
		case time.Now().After(deadline):
			f.t.Fatalf("run %s was not claimable by %s within %s", run.ID, holder, awaitTimeout)
		}
		time.Sleep(pollInterval)
	}
}

// takeOver enqueues a run, lets holderA claim it under a short lease and
// checkpoint its first step, and lets holderB reclaim it once that lease ran
// out. It returns the run as holderA held it and as holderB holds it.
func (f *fixture) takeOver() (stale, current *klaxontype.Run) {
	f.t.Helper()
	run := f.enqueue(nil)
	stale = f.claimRun(run, holderA, shortLease).Run
	f.mustCheckpoint(stale, holderA, 1, "fetch", `{"pages": 3}`)
	current = f.awaitClaim(run, holderB).Run
	return stale, current
}

// runIn enqueues a run and drives it to status through the Store interface.
// A pending run is delayed by an hour so that the claims that drive other runs
// of the store never take it; a running or compensating run is held by
// holderA under a long lease.
func (f *fixture) runIn(status klaxontype.RunStatus, params *store.RunEnqueueParams) *klaxontype.Run {
	f.t.Helper()
	p := store.RunEnqueueParams{}
	if params != nil {
		p = *params
	}
	if status == klaxontype.RunStatusPending {
		p.AvailableAt = time.Now().Add(time.Hour)
		return f.enqueue(&p)
	}
	run := f.enqueue(&p)
	held := f.claimRun(run, holderA, longLease).Run
	lease := leaseOf(held)
	var err error
	switch status {
	case klaxontype.RunStatusRunning:
	case klaxontype.RunStatusRetrying:
		err = f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: lease, Holder: holderA, Attempt: failedAttempt(held, holderA),
			Next: klaxontype.RunStatusRetrying, RetryAt: time.Now().Add(time.Hour),
		})
	case klaxontype.RunStatusCompensating:
		err = f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: lease, Holder: holderA, Attempt: failedAttempt(held, holderA),
			Next: klaxontype.RunStatusCompensating, Failure: permanentFailure(),
		})
	case klaxontype.RunStatusCompleted:
		err = f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: lease, Holder: holderA, Output: []byte(`{"ok": true}`)})
	case klaxontype.RunStatusDead:
		err = f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: lease, Holder: holderA, Attempt: failedAttempt(held, holderA),
			Next: klaxontype.RunStatusDead, Failure: permanentFailure(), DeadLetter: newDeadLetter(),
		})
	default:
		f.t.Fatalf("runIn: the Store interface cannot drive a run to %s", status)
	}
	if err != nil {
		f.t.Fatalf("driving run %s to %s: %v", run.ID, status, err)
	}
	return f.get(run.ID)
}

// checkpoint records a completed step of a held run.
func (f *fixture) checkpoint(held *klaxontype.Run, holder string, seq int, name, output string) error {
	finished := time.Now()
	return f.store.StepCheckpoint(f.ctx, &store.StepCheckpointParams{
		Lease: leaseOf(held), Holder: holder, Seq: seq, Name: name, Attempt: held.Attempt,
		IdempotencyKey: stepKey(held.ID, seq, name), Output: []byte(output),
		StartedAt: finished.Add(-10 * time.Millisecond), FinishedAt: finished,
	})
}

// mustCheckpoint records a completed step that the store must accept.
func (f *fixture) mustCheckpoint(held *klaxontype.Run, holder string, seq int, name, output string) {
	f.t.Helper()
	if err := f.checkpoint(held, holder, seq, name, output); err != nil {
		f.t.Fatalf("StepCheckpoint %d %q of run %s by %s: %v", seq, name, held.ID, holder, err)
	}
}

// steps returns a run's step log.
func (f *fixture) steps(runID string) []*klaxontype.StepRecord {
	f.t.Helper()
	steps, err := f.store.StepList(f.ctx, runID)
	if err != nil {
		f.t.Fatalf("StepList %s: %v", runID, err)
	}
	return steps
}

// events returns a run's event log.
func (f *fixture) events(runID string) []*klaxontype.Event {
	f.t.Helper()
	events, err := f.store.EventList(f.ctx, runID)
	if err != nil {
		f.t.Fatalf("EventList %s: %v", runID, err)
	}
	return events
}

// attempts returns a run's failed attempts.
func (f *fixture) attempts(runID string) []*klaxontype.Attempt {
	f.t.Helper()
	attempts, err := f.store.AttemptList(f.ctx, runID)
	if err != nil {
		f.t.Fatalf("AttemptList %s: %v", runID, err)
	}
	return attempts
}

// leaseOf is the lease under which a claimed run is held.
func leaseOf(run *klaxontype.Run) store.Lease {
	return store.Lease{RunID: run.ID, Epoch: run.Epoch}
}

// stepKey is an idempotency key shaped like the engine's.
func stepKey(runID string, seq int, name string) string {
	return fmt.Sprintf("%s/%d/%s", runID, seq, name)
}

// failedAttempt is an attempt of a held run that failed in its first step.
func failedAttempt(held *klaxontype.Run, holder string) *klaxontype.Attempt {
	return &klaxontype.Attempt{
		RunID: held.ID, Attempt: held.Attempt, At: time.Now(), Worker: holder,
		Step: "fetch", StepSeq: 1, Class: klaxontype.ClassTransient,
		Message: "connection reset by peer", ClassifiedBy: "network", Duration: 250 * time.Millisecond,
	}
}

// reviewChannel is the channel of the dead-letter entries the suite creates
// unless a test routes one elsewhere.
const reviewChannel = "review"

// newDeadLetter is what the engine decides about the entry of a run going dead:
// a fresh entry ID, routed to reviewChannel.
func newDeadLetter() *store.DeadLetterParams {
	return &store.DeadLetterParams{ID: newEntryID(), Channel: reviewChannel}
}

// permanentFailure is the terminal failure of a run whose API key was refused.
func permanentFailure() *klaxontype.RunFailure {
	return &klaxontype.RunFailure{
		Class: klaxontype.ClassPermanent, Reason: "401 Unauthorized: invalid API key", Step: "fetch", StepSeq: 1,
	}
}

func claimedIDs(claimed []*store.ClaimedRun) []string {
	ids := make([]string, len(claimed))
	for i, c := range claimed {
		ids[i] = c.Run.ID
	}
	return ids
}

func runIDs(runs []*klaxontype.Run) []string {
	ids := make([]string, len(runs))
	for i, run := range runs {
		ids[i] = run.ID
	}
	return ids
}
