package storetest

import (
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testTotals checks the totals the metrics collector exports as counters:
// runs, attempts, retries and spend by workflow, and dead-letter entries by
// class, which deleting old rows (retention, a purge) must never lower, or
// Prometheus would read the drop as a counter reset and a rate as a spike.
func testTotals(t *testing.T, h *harness) {
	t.Run("RunSumByWorkflowSurvivesRetention", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		const workflow = "totalled"
		known := klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 1000, OutputTokens: 200, CachedTokens: 400},
			Cost: klaxontype.KnownCost(0.25), ModelCalls: 2}
		unknown := klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 10, OutputTokens: 5},
			Cost: klaxontype.UnknownCost(), ModelCalls: 1}
		first := f.enqueue(&store.RunEnqueueParams{Workflow: workflow})
		f.completeWith(first, 2, known)
		second := f.enqueue(&store.RunEnqueueParams{Workflow: workflow})
		f.completeWith(second, 0, unknown)
		f.enqueue(&store.RunEnqueueParams{Workflow: workflow, AvailableAt: time.Now().Add(time.Hour)})
		f.runIn(klaxontype.RunStatusCompleted, &store.RunEnqueueParams{Workflow: "other"})

		want := []*store.RunTotals{
			{Workflow: "other", Runs: 1, Attempts: 1},
			{Workflow: workflow, Runs: 3, Attempts: 4, Retries: 2,
				Usage:   klaxontype.TokenUsage{InputTokens: 1010, OutputTokens: 205, CachedTokens: 400},
				CostUSD: 0.25, ModelCalls: 3, RunsUnknownCost: 1},
		}
		f.checkRunTotals(want)
		// Folding the ended runs changes what the sum reads, not what it
		// returns; a second fold finds nothing left.
		if folded := f.fold(100); folded != 3 {
			t.Errorf("folded %d runs; want the 3 ended ones", folded)
		}
		f.checkRunTotals(want)
		if folded := f.fold(100); folded != 0 {
			t.Errorf("a second fold folded %d runs; want 0", folded)
		}

		// Retention deletes the two ended runs; what they counted stays.
		deleted, err := f.store.RunsDelete(f.ctx, &store.RunsDeleteParams{
			IDs: []string{first.ID, second.ID}, Actor: "retention", Rule: "completed older than 0d"})
		if err != nil || len(deleted) != 2 {
			t.Fatalf("RunsDelete: %v, %v", deleted, err)
		}
		f.checkRunTotals(want)
		// Asked again, it deletes nothing and counts nothing twice.
		if deleted, err := f.store.RunsDelete(f.ctx, &store.RunsDeleteParams{
			IDs: []string{first.ID, second.ID}, Actor: "retention", Rule: "completed older than 0d"}); err != nil || len(deleted) != 0 {
			t.Fatalf("RunsDelete again: %v, %v", deleted, err)
		}
		f.checkRunTotals(want)

		// A new run adds to the retired totals.
		f.completeWith(f.enqueue(&store.RunEnqueueParams{Workflow: workflow}), 0, known)
		want[1].Runs, want[1].Attempts, want[1].ModelCalls, want[1].CostUSD = 4, 5, 5, 0.5
		want[1].Usage = klaxontype.TokenUsage{InputTokens: 2010, OutputTokens: 405, CachedTokens: 800}
		f.checkRunTotals(want)
		f.fold(100)
		f.checkRunTotals(want)
	})

	t.Run("RunSumByWorkflowFollowsAReplayAfterAFold", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		dead, entry := f.deadRun(death{})
		f.fold(100)
		want := []*store.RunTotals{{Workflow: testWorkflow, Runs: 1, Attempts: 1}}
		f.checkRunTotals(want)
		// Late spend of a folded run is counted once.
		late := klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 50}, Cost: klaxontype.UnknownCost(), ModelCalls: 1}
		if err := f.store.SpendRecordLate(f.ctx, &store.SpendRecordLateParams{RunID: dead.ID, Attempt: 1, Seq: 1, Step: "summarize", Holder: holderA, Spend: late}); err != nil {
			t.Fatalf("SpendRecordLate: %v", err)
		}
		want[0].Usage.InputTokens, want[0].ModelCalls, want[0].RunsUnknownCost = 50, 1, 1
		f.checkRunTotals(want)
		// A replay reopens the run: its totals move back out of the folded
		// sums, and what the next attempt spends is added once.
		if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entry, Mode: klaxontype.ReplayResume, Actor: "alice"}); err != nil {
			t.Fatalf("DLQReplay: %v", err)
		}
		f.checkRunTotals(want)
		f.completeWith(dead, 0, klaxontype.Spend{Usage: klaxontype.TokenUsage{OutputTokens: 7}, Cost: klaxontype.KnownCost(0.5), ModelCalls: 1})
		want[0].Attempts, want[0].Usage.OutputTokens, want[0].ModelCalls, want[0].CostUSD = 2, 7, 2, 0.5
		f.checkRunTotals(want)
		if folded := f.fold(100); folded != 1 {
			t.Errorf("folded %d runs after the replay completed; want 1", folded)
		}
		f.checkRunTotals(want)
		if _, err := f.store.RunTotalsFold(f.ctx, store.MaxTotalsFoldBatch+1); !errors.Is(err, klaxontype.ErrInvalid) {
			t.Errorf("a fold over the batch bound: %v; want ErrInvalid", err)
		}
	})

	t.Run("ConcurrentRetentionCountsEachRunOnce", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		// Two servers applying one rule pick the same batch at once: each run
		// is deleted, audited and added to the totals by one of them.
		const runs = 40
		ids := make([]string, runs)
		spend := klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 10}, Cost: klaxontype.KnownCost(0.5), ModelCalls: 1}
		for i := range ids {
			run := f.enqueue(&store.RunEnqueueParams{Workflow: "raced"})
			f.completeWith(run, 0, spend)
			ids[i] = run.ID
		}
		f.fold(runs / 2) // half folded, half not: both paths of a delete
		want := []*store.RunTotals{{Workflow: "raced", Runs: runs, Attempts: runs,
			Usage: klaxontype.TokenUsage{InputTokens: 10 * runs}, CostUSD: 0.5 * runs, ModelCalls: runs}}
		f.checkRunTotals(want)
		var wg sync.WaitGroup
		deleted := make([][]string, 4)
		for i := range deleted {
			wg.Go(func() {
				var err error
				deleted[i], err = f.store.RunsDelete(f.ctx, &store.RunsDeleteParams{IDs: ids, Actor: "retention", Rule: "raced"})
				if err != nil {
					t.Errorf("RunsDelete %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		seen := map[string]int{}
		for _, list := range deleted {
			for _, id := range list {
				seen[id]++
			}
		}
		for _, id := range ids {
			if seen[id] != 1 {
				t.Errorf("run %s deleted %d times; want once", id, seen[id])
			}
		}
		audited := 0
		for _, r := range f.audit(&store.AuditListParams{Action: klaxontype.AuditRetentionDelete}) {
			var params struct{ Runs []string }
			if err := json.Unmarshal(r.Params, &params); err != nil {
				t.Fatal(err)
			}
			audited += len(params.Runs)
		}
		if audited != runs {
			t.Errorf("the audit log records %d deleted runs; want %d", audited, runs)
		}
		f.checkRunTotals(want)
	})

	t.Run("DLQCountDeletedKeepsPurgedAndRetainedEntries", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.checkDLQCountDeleted(nil)
		overflow := &klaxontype.RunFailure{Class: klaxontype.ClassContextOverflow, Reason: "prompt of 210k tokens", Step: "summarize", StepSeq: 1}
		f.deadRun(death{Run: store.RunEnqueueParams{Workflow: "classify"}, Failure: overflow})
		f.deadRun(death{Run: store.RunEnqueueParams{Workflow: "classify"}, Failure: overflow})
		retained, entry := f.deadRun(death{})
		if _, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: entry, Reason: "known bad", Actor: "alice"}); err != nil {
			t.Fatalf("DLQDiscard: %v", err)
		}
		f.purge(store.DLQListParams{Workflow: "classify"}, 2)
		if deleted, err := f.store.RunsDelete(f.ctx, &store.RunsDeleteParams{
			IDs: []string{retained.ID}, Actor: "retention", Rule: "dead older than 0d"}); err != nil || len(deleted) != 1 {
			t.Fatalf("RunsDelete: %v, %v", deleted, err)
		}
		f.checkDLQCount(nil)
		f.checkDLQCountDeleted([]*store.DLQCount{
			{Workflow: "classify", Class: klaxontype.ClassContextOverflow, Count: 2},
			{Workflow: testWorkflow, Class: klaxontype.ClassPermanent, Count: 1},
		})
	})
}

// fold folds up to limit ended runs and returns how many it folded.
func (f *fixture) fold(limit int) int {
	f.t.Helper()
	folded, err := f.store.RunTotalsFold(f.ctx, limit)
	if err != nil {
		f.t.Fatalf("RunTotalsFold: %v", err)
	}
	return folded
}

// checkRunTotals compares RunSumByWorkflow with want, in its order.
func (f *fixture) checkRunTotals(want []*store.RunTotals) {
	f.t.Helper()
	got, err := f.store.RunSumByWorkflow(f.ctx)
	if err != nil {
		f.t.Fatalf("RunSumByWorkflow: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		f.t.Errorf("RunSumByWorkflow:")
		for _, c := range got {
			f.t.Errorf("  got  %+v", *c)
		}
		for _, c := range want {
			f.t.Errorf("  want %+v", *c)
		}
	}
}

// checkDLQCountDeleted compares DLQCountDeleted with want, in its order.
func (f *fixture) checkDLQCountDeleted(want []*store.DLQCount) {
	f.t.Helper()
	got, err := f.store.DLQCountDeleted(f.ctx)
	if err != nil {
		f.t.Fatalf("DLQCountDeleted: %v", err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		f.t.Errorf("DLQCountDeleted:")
		for _, c := range got {
			f.t.Errorf("  got  %+v", *c)
		}
		for _, c := range want {
			f.t.Errorf("  want %+v", *c)
		}
	}
}
