package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// fencedWrite is a write a lease holder makes, tried by a holder that no
// longer holds the run.
type fencedWrite struct {
	name string
	// compensating writes are tried against a compensating run.
	compensating bool
	write        func(f *fixture, lease store.Lease, holder string) error
}

var fencedWrites = []fencedWrite{
	{name: "StepCheckpoint", write: func(f *fixture, lease store.Lease, holder string) error {
		return f.store.StepCheckpoint(f.ctx, &store.StepCheckpointParams{
			Lease: lease, Holder: holder, Seq: 2, Name: "summarize", Attempt: 1,
			IdempotencyKey: stepKey(lease.RunID, 2, "summarize"), Output: []byte(`{"summary": "late"}`),
			StartedAt: time.Now(), FinishedAt: time.Now(),
		})
	}},
	{name: "RunComplete", write: func(f *fixture, lease store.Lease, holder string) error {
		return f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: lease, Holder: holder, Output: []byte(`{"summary": "late"}`)})
	}},
	{name: "RunFailRetrying", write: func(f *fixture, lease store.Lease, holder string) error {
		return f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: lease, Holder: holder, Next: klaxontype.RunStatusRetrying, RetryAt: time.Now(),
			Attempt: &klaxontype.Attempt{RunID: lease.RunID, Attempt: 1, At: time.Now(), Worker: holder,
				Class: klaxontype.ClassTimeout, Message: "deadline exceeded", ClassifiedBy: "deadline"},
		})
	}},
	{name: "RunFailCompensating", write: func(f *fixture, lease store.Lease, holder string) error {
		return f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: lease, Holder: holder, Next: klaxontype.RunStatusCompensating, Failure: permanentFailure(),
			Attempt: &klaxontype.Attempt{RunID: lease.RunID, Attempt: 1, At: time.Now(), Worker: holder,
				Class: klaxontype.ClassPermanent, Message: "bad input", ClassifiedBy: "error"},
		})
	}},
	{name: "RunFailDead", write: func(f *fixture, lease store.Lease, holder string) error {
		return f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: lease, Holder: holder, Next: klaxontype.RunStatusDead, Failure: permanentFailure(),
			DeadLetter: newDeadLetter(),
			Attempt: &klaxontype.Attempt{RunID: lease.RunID, Attempt: 1, At: time.Now(), Worker: holder,
				Class: klaxontype.ClassPermanent, Message: "bad input", ClassifiedBy: "error"},
		})
	}},
	{name: "RunRelease", write: func(f *fixture, lease store.Lease, holder string) error {
		return f.store.RunRelease(f.ctx, &store.RunReleaseParams{Lease: lease, Holder: holder})
	}},
	{name: "StepCompensate", compensating: true, write: func(f *fixture, lease store.Lease, holder string) error {
		return f.store.StepCompensate(f.ctx, &store.StepCompensateParams{Lease: lease, Holder: holder, Seq: 1, At: time.Now()})
	}},
	{name: "CompensatingRunFailDead", compensating: true, write: func(f *fixture, lease store.Lease, holder string) error {
		return f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: lease, Holder: holder, Next: klaxontype.RunStatusDead, Failure: permanentFailure(),
			DeadLetter: newDeadLetter(),
		})
	}},
	{name: "CompensatingRunRelease", compensating: true, write: func(f *fixture, lease store.Lease, holder string) error {
		return f.store.RunRelease(f.ctx, &store.RunReleaseParams{Lease: lease, Holder: holder})
	}},
}

// testFencing checks that every write of a lease holder is refused, recorded
// as a suppressed duplicate and without effect when it comes from the holder
// whose lease was taken over (a stale epoch), from a worker that never held
// the run (the current epoch under another name), or from the current holder
// under an epoch it held before.
func testFencing(t *testing.T, h *harness) {
	for _, fenced := range fencedWrites {
		t.Run(fenced.name, func(t *testing.T) {
			t.Parallel()
			f := h.fixture(t)
			var stale, current *klaxontype.Run
			if fenced.compensating {
				stale, current = f.takeOverCompensating()
			} else {
				stale, current = f.takeOver()
			}
			runBefore := f.get(current.ID)
			stepsBefore := f.steps(current.ID)
			attemptsBefore := f.attempts(current.ID)

			err := fenced.write(f, leaseOf(stale), holderA)
			checkErrorIs(t, fenced.name+" under a stale epoch", err, klaxontype.ErrLeaseLost)
			err = fenced.write(f, leaseOf(current), holderC)
			checkErrorIs(t, fenced.name+" by a worker that does not hold the run", err, klaxontype.ErrLeaseLost)
			// The current holder's name is not enough either: the epoch fences
			// a worker that lost the run and claimed it again.
			err = fenced.write(f, leaseOf(stale), holderB)
			checkErrorIs(t, fenced.name+" by the current holder under a stale epoch", err, klaxontype.ErrLeaseLost)

			checkRunUnchanged(t, "refused "+fenced.name, f.get(current.ID), runBefore)
			checkStepsUnchanged(t, "refused "+fenced.name, f.steps(current.ID), stepsBefore)
			if attempts := f.attempts(current.ID); len(attempts) != len(attemptsBefore) {
				t.Errorf("refused %s: %d attempts in the history; want %d", fenced.name, len(attempts), len(attemptsBefore))
			}
			var actors []string
			for _, event := range eventsOfType(f.events(current.ID), klaxontype.EventDuplicateSuppressed) {
				actors = append(actors, event.Actor)
			}
			checkIDSet(t, "refused "+fenced.name+": actors of duplicate.suppressed events", actors, holderA, holderC, holderB)

			// The current holder's lease is whole.
			checkIDs(t, "the current holder's lost leases", f.extend(holderB, longLease, leaseOf(current)))
			if err := fenced.write(f, leaseOf(current), holderB); err != nil {
				t.Errorf("%s by the current holder: %v", fenced.name, err)
			}
		})
	}
}

// takeOverCompensating is takeOver for a run that holderA moved to
// compensating before its lease ran out.
func (f *fixture) takeOverCompensating() (stale, current *klaxontype.Run) {
	f.t.Helper()
	run := f.enqueue(nil)
	stale = f.claimRun(run, holderA, shortLease).Run
	f.mustCheckpoint(stale, holderA, 1, "reserve_stock", `{"reservation": "r-1"}`)
	err := f.store.RunFail(f.ctx, &store.RunFailParams{
		Lease: leaseOf(stale), Holder: holderA, Attempt: failedAttempt(stale, holderA),
		Next: klaxontype.RunStatusCompensating, Failure: permanentFailure(),
	})
	if err != nil {
		f.t.Fatalf("RunFail to compensating: %v", err)
	}
	current = f.awaitClaim(run, holderB).Run
	if current.Status != klaxontype.RunStatusCompensating {
		f.t.Fatalf("reclaimed run is %s; want compensating", current.Status)
	}
	return stale, current
}

// checkStepsUnchanged reports any difference a refused write made to a step
// log.
func checkStepsUnchanged(t *testing.T, what string, got, before []*klaxontype.StepRecord) {
	t.Helper()
	same := slices.EqualFunc(got, before, func(a, b *klaxontype.StepRecord) bool {
		return a.Seq == b.Seq && a.Name == b.Name && a.Status == b.Status && a.Epoch == b.Epoch &&
			string(a.Output) == string(b.Output) && a.CompensatedAt.Equal(b.CompensatedAt) &&
			a.CompensationError == b.CompensationError
	})
	if !same {
		t.Errorf("%s changed the step log:\n got  %+v\n want %+v", what, got, before)
	}
}
