package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testPriorities(t *testing.T, h *harness) {
	t.Run("HigherPriorityClaimedFirst", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		// Available at the same moment, the priority alone decides; across
		// workflows too.
		at := time.Now().Add(-time.Minute)
		plain := f.enqueue(&store.RunEnqueueParams{AvailableAt: at})
		urgent := f.enqueue(&store.RunEnqueueParams{AvailableAt: at, Priority: 5, Workflow: "triage"})
		background := f.enqueue(&store.RunEnqueueParams{AvailableAt: at, Priority: -3})
		highest := f.enqueue(&store.RunEnqueueParams{AvailableAt: at, Priority: klaxontype.MaxPriority})
		if got := f.get(urgent.ID); got.Priority != 5 {
			t.Errorf("RunGet priority %d; want 5", got.Priority)
		}
		var order []string
		for range 4 {
			claimed := f.claim(holderA, 1, longLease, testWorkflow, "triage")
			if len(claimed) != 1 {
				t.Fatalf("RunsClaim returned %v; want one run", claimedIDs(claimed))
			}
			order = append(order, claimed[0].Run.ID)
			if claimed[0].Run.ID == highest.ID && claimed[0].Run.Priority != klaxontype.MaxPriority {
				t.Errorf("the claimed run carries priority %d; want %d", claimed[0].Run.Priority, klaxontype.MaxPriority)
			}
		}
		want := []string{highest.ID, urgent.ID, plain.ID, background.ID}
		if !slices.Equal(order, want) {
			t.Errorf("claim order %v; want %v (priorities 100, 5, 0, -3)", order, want)
		}
	})

	t.Run("PriorityAgesByTenSecondsAStep", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		now := time.Now()
		// Aged times: old 0 at now−30 s; newer +2 at now−5 s−20 s = now−25 s;
		// newer +3 at now−5 s−30 s = now−35 s; oldest −1 at now−60 s+10 s.
		old := f.enqueue(&store.RunEnqueueParams{AvailableAt: now.Add(-30 * time.Second)})
		newerTwo := f.enqueue(&store.RunEnqueueParams{AvailableAt: now.Add(-5 * time.Second), Priority: 2})
		newerThree := f.enqueue(&store.RunEnqueueParams{AvailableAt: now.Add(-5 * time.Second), Priority: 3})
		oldestLow := f.enqueue(&store.RunEnqueueParams{AvailableAt: now.Add(-60 * time.Second), Priority: -1})
		want := []string{oldestLow.ID, newerThree.ID, old.ID, newerTwo.ID}
		var order []string
		for range want {
			claimed := f.claim(holderA, 1, longLease)
			if len(claimed) != 1 {
				t.Fatalf("RunsClaim returned %v; want one run", claimedIDs(claimed))
			}
			order = append(order, claimed[0].Run.ID)
		}
		if !slices.Equal(order, want) {
			t.Errorf("claim order %v; want %v (aged −50 s, −35 s, −30 s, −25 s)", order, want)
		}
	})

	t.Run("ClaimTakesOnlyDueRunsWhateverThePriority", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		// Its aged time is long past, but it is not due for 10 s.
		soon := f.enqueue(&store.RunEnqueueParams{AvailableAt: time.Now().Add(10 * time.Second), Priority: klaxontype.MaxPriority})
		f.enqueue(&store.RunEnqueueParams{AvailableAt: time.Now().Add(time.Hour), Priority: 50})
		due := f.enqueue(&store.RunEnqueueParams{Priority: -100})
		claimed := f.claim(holderA, 10, longLease)
		if len(claimed) != 1 || claimed[0].Run.ID != due.ID {
			t.Fatalf("RunsClaim returned %v; want only the due run %s (not %s, due in 10 s)", claimedIDs(claimed), due.ID, soon.ID)
		}
	})

	t.Run("ClaimLimitSpansBothOrders", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		at := time.Now().Add(-time.Minute)
		var want []string
		for _, priority := range []int{0, 7, 0, -7, 7} {
			want = append(want, f.enqueue(&store.RunEnqueueParams{AvailableAt: at, Priority: priority}).ID)
		}
		got := claimedIDs(f.claim(holderA, 3, longLease))
		plainTaken := 0
		for _, id := range got {
			if id == want[0] || id == want[2] {
				plainTaken++
			}
		}
		// Either run of priority 0 may come third: they tie.
		if len(got) != 3 || !slices.Contains(got, want[1]) || !slices.Contains(got, want[4]) || plainTaken != 1 {
			t.Errorf("a claim of 3 took %v; want both runs of priority 7 (%s, %s) and one of priority 0", got, want[1], want[4])
		}
		if rest := f.claim(holderB, 10, longLease); len(rest) != 2 {
			t.Errorf("the next claim took %v; want the other two runs", claimedIDs(rest))
		}
	})

	t.Run("PriorityOutOfRangeRefused", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		for _, priority := range []int{klaxontype.MaxPriority + 1, klaxontype.MinPriority - 1} {
			_, _, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{
				ID: newRunID(), Workflow: testWorkflow, WorkflowVersion: 1, Input: []byte(`{}`), Actor: "client", Priority: priority,
			})
			if !errors.Is(err, klaxontype.ErrInvalid) {
				t.Errorf("RunEnqueue with priority %d: %v; want an error matching ErrInvalid", priority, err)
			}
		}
		if runs := f.list(&store.RunListParams{}); len(runs) != 0 {
			t.Errorf("refused enqueues left %d runs", len(runs))
		}
	})

	t.Run("PriorityKeptAcrossRetryAndRestart", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(&store.RunEnqueueParams{Priority: 9})
		held := f.claimRun(run, holderA, longLease).Run
		failure := &klaxontype.RunFailure{Class: klaxontype.ClassTransient, Reason: "503"}
		f.fail(held, klaxontype.RunStatusRetrying, attemptFailing(held, failure))
		if got := f.get(run.ID); got.Priority != 9 {
			t.Errorf("a retrying run has priority %d; want 9", got.Priority)
		}
		held = f.awaitClaim(run, holderA).Run
		entryID := f.kill(held, permanentFailure(), nil, attemptFailing(held, permanentFailure()))
		newID := newRunID()
		if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{
			EntryID: entryID, Mode: klaxontype.ReplayRestart, NewRunID: newID, Actor: "carol",
		}); err != nil {
			t.Fatalf("DLQReplay restart: %v", err)
		}
		if got := f.get(newID); got.Priority != 9 {
			t.Errorf("the restarted run has priority %d; want its dead run's 9", got.Priority)
		}
	})
}
