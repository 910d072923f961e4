package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testSpend checks that spend recorded with checkpoints and failed attempts
// adds up, once each, in the run's totals and the workflow's spend series.
func testSpend(t *testing.T, h *harness) {
	t.Run("LateSpend", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		late := klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 5000, OutputTokens: 390}, Cost: klaxontype.KnownCost(0.5), ModelCalls: 1}
		held := f.claimRun(f.enqueue(nil), holderA, longLease).Run
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: store.Lease{RunID: held.ID, Epoch: held.Epoch}, Holder: holderA, Next: klaxontype.RunStatusRetrying, RetryAt: time.Now().Add(time.Hour),
			Attempt: &klaxontype.Attempt{RunID: held.ID, Attempt: held.Attempt, At: time.Now(), Worker: holderA, Step: "ask", StepSeq: 1,
				Class: klaxontype.ClassTimeout, ClassifiedBy: "deadline", Message: "step ran past its timeout"},
		})
		if err != nil {
			t.Fatalf("RunFail: %v", err)
		}
		// The holder no longer holds the run, and the late spend counts anyway.
		if err := f.store.SpendRecordLate(f.ctx, &store.SpendRecordLateParams{
			RunID: held.ID, Holder: holderA, Attempt: held.Attempt, Seq: 1, Step: "ask", Spend: late,
		}); err != nil {
			t.Fatalf("SpendRecordLate: %v", err)
		}
		attempts := f.attempts(held.ID)
		if got := f.get(held.ID); got.Spend.Usage.Total() != 5390 || len(attempts) != 1 || attempts[0].Spend.Usage.Total() != 5390 {
			t.Fatalf("run spend %+v, attempts %+v; want the late 5390 tokens on both", got.Spend, attempts)
		}
		tally, err := f.store.BreakerTally(f.ctx, &store.BreakerTallyParams{Workflow: testWorkflow, SpendSince: time.Now().Add(-time.Hour)})
		if err != nil || tally.Cost.USD < 0.499 || tally.Cost.USD > 0.501 {
			t.Fatalf("tally %+v, %v; want the late $0.5", tally, err)
		}
		event := checkOneEvent(t, "late spend", f.events(held.ID), klaxontype.EventSpendLate)
		checkEvent(t, "late spend", event, klaxontype.Event{RunID: held.ID, Actor: holderA, Step: "ask", StepSeq: 1})

		// Spend the attempt's outcome carries is only announced.
		if err := f.store.SpendRecordLate(f.ctx, &store.SpendRecordLateParams{
			RunID: held.ID, Holder: holderA, Attempt: held.Attempt, Seq: 1, Step: "ask", Spend: late, Counted: true,
		}); err != nil {
			t.Fatalf("SpendRecordLate, counted: %v", err)
		}
		if got := f.get(held.ID); got.Spend.Usage.Total() != 5390 || len(eventsOfType(f.events(held.ID), klaxontype.EventSpendLate)) != 2 {
			t.Fatalf("run spend %+v after a counted late spend; want it unchanged, and a second event", got.Spend)
		}
	})

	t.Run("TotalsAndSeries", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		spend := func(tokens int64, usd float64) klaxontype.Spend {
			return klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: tokens, OutputTokens: tokens / 2}, Cost: klaxontype.KnownCost(usd), ModelCalls: 1}
		}
		started := time.Now().Add(-time.Second)
		for i, usd := range []float64{0.25, 0.5} {
			run := f.enqueue(nil)
			held := f.claimRun(run, holderA, longLease).Run
			err := f.store.StepCheckpoint(f.ctx, &store.StepCheckpointParams{
				Lease: store.Lease{RunID: held.ID, Epoch: held.Epoch}, Holder: holderA, Seq: 1, Name: "ask",
				Attempt: held.Attempt, IdempotencyKey: held.ID + "/1/ask", Output: []byte(`"answer"`),
				StartedAt: time.Now(), FinishedAt: time.Now(), Spend: spend(1000, usd),
			})
			if err != nil {
				t.Fatalf("StepCheckpoint with spend: %v", err)
			}
			if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{
				Lease: store.Lease{RunID: held.ID, Epoch: held.Epoch}, Holder: holderA, Output: []byte(`1`),
				Spend: spend(int64(100*(i+1)), 0.01),
			}); err != nil {
				t.Fatalf("RunComplete with spend: %v", err)
			}
			got := f.get(run.ID)
			steps, _ := f.store.StepList(f.ctx, run.ID)
			if got.Spend.ModelCalls != 2 || got.Spend.Usage.InputTokens != 1000+int64(100*(i+1)) || got.Spend.Cost.Unknown ||
				len(steps) != 1 || steps[0].Spend.Usage.InputTokens != 1000 {
				t.Fatalf("run %d spend %+v, step spend %+v", i, got.Spend, steps)
			}
		}
		series, err := f.store.SpendListBuckets(f.ctx, &store.SpendSeriesParams{
			Workflow: testWorkflow, Since: started, Until: time.Now().Add(time.Second), Bucket: time.Hour,
		})
		if err != nil {
			t.Fatalf("SpendSeries: %v", err)
		}
		total := 0
		var sum klaxontype.Spend
		for _, bucket := range series {
			total += bucket.Runs
			sum = sum.Add(bucket.Spend)
		}
		if total != 2 || sum.ModelCalls != 4 || sum.Usage.InputTokens != 2300 || sum.Cost.Unknown || sum.Cost.USD < 0.769 || sum.Cost.USD > 0.771 {
			t.Fatalf("series %+v sums to %d runs, %+v", series, total, sum)
		}
	})
	t.Run("UnknownCostStaysUnknown", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		held := f.claimRun(run, holderA, longLease).Run
		if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{
			Lease: store.Lease{RunID: held.ID, Epoch: held.Epoch}, Holder: holderA, Output: []byte(`1`),
			Spend: klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 5}, Cost: klaxontype.UnknownCost(), ModelCalls: 1},
		}); err != nil {
			t.Fatal(err)
		}
		if got := f.get(run.ID); !got.Spend.Cost.Unknown {
			t.Fatalf("run cost %+v; an unknown cost must stay unknown", got.Spend.Cost)
		}
		series, _ := f.store.SpendListBuckets(f.ctx, &store.SpendSeriesParams{
			Workflow: testWorkflow, Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour), Bucket: time.Minute,
		})
		if len(series) != 1 || !series[0].Spend.Cost.Unknown {
			t.Fatalf("series %+v; the bucket's cost must be unknown", series)
		}
	})
	t.Run("SeriesRefusesBadRange", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		now := time.Now()
		for _, p := range []*store.SpendSeriesParams{
			{Since: now.Add(-time.Hour), Until: now, Bucket: time.Minute},
			{Workflow: testWorkflow, Since: now, Until: now.Add(-time.Hour), Bucket: time.Minute},
			{Workflow: testWorkflow, Since: now.Add(-time.Hour), Until: now, Bucket: time.Millisecond},
		} {
			if _, err := f.store.SpendListBuckets(f.ctx, p); !errors.Is(err, klaxontype.ErrInvalid) {
				t.Errorf("SpendListBuckets(%+v) = %v; want ErrInvalid", p, err)
			}
		}
	})
}
