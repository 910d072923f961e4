package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testStats checks StatsSeries: exact counts per bucket for a scripted set of
// runs, buckets placed from Since, empty buckets filled, the workflow filter,
// and refused parameters.
func testStats(t *testing.T, h *harness) {
	t.Run("CountsPerBucket", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		overflow := &klaxontype.RunFailure{Class: klaxontype.ClassContextOverflow, Reason: "prompt of 210k tokens", Step: "summarize", StepSeq: 1}
		transient := &klaxontype.RunFailure{Class: klaxontype.ClassTransient, Reason: "503 after 5 attempts", Step: "summarize", StepSeq: 1}

		// The first bucket: two completed runs with known costs, one of
		// them after a retry; a context overflow; a dead run of another
		// workflow; two runs left pending, one cancelled in the next bucket.
		f.completeWith(f.enqueue(nil), 0, klaxontype.Spend{
			Usage: klaxontype.TokenUsage{InputTokens: 1000, OutputTokens: 500}, Cost: klaxontype.KnownCost(0.25), ModelCalls: 1,
		})
		f.completeWith(f.enqueue(nil), 1, klaxontype.Spend{
			Usage: klaxontype.TokenUsage{InputTokens: 100, OutputTokens: 50}, Cost: klaxontype.KnownCost(0.5), ModelCalls: 2,
		})
		f.deadRun(death{Failure: overflow})
		f.deadRun(death{Run: store.RunEnqueueParams{Workflow: "classify"}, Failure: transient})
		f.runIn(klaxontype.RunStatusPending, nil)
		cancelled := f.runIn(klaxontype.RunStatusPending, nil)

		// The bucket boundary: every write above is before it, every write
		// below after it, to the microsecond the stores keep.
		time.Sleep(2 * time.Millisecond)
		boundary := time.Now().Truncate(time.Microsecond)
		time.Sleep(2 * time.Millisecond)

		// The second bucket: the cancel, a run whose cost is unknown, two
		// dead runs of two classes.
		if _, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: cancelled.ID, Reason: "customer withdrew", Actor: "carol"}); err != nil {
			t.Fatalf("RunCancel: %v", err)
		}
		f.completeWith(f.enqueue(nil), 0, klaxontype.Spend{
			Usage: klaxontype.TokenUsage{InputTokens: 10}, Cost: klaxontype.UnknownCost(), ModelCalls: 1,
		})
		f.deadRun(death{Failure: overflow})
		f.deadRun(death{Failure: transient})

		step := time.Hour
		since := boundary.Add(-step)
		first := klaxontype.NewStatsBucket(since.UTC())
		first.RunsEnqueued = 6
		first.RunsByStatus[klaxontype.RunStatusCompleted] = 2
		first.RunsByStatus[klaxontype.RunStatusDead] = 2
		first.RunsFinished = 4
		first.DLQByClass[klaxontype.ClassContextOverflow] = 1
		first.DLQByClass[klaxontype.ClassTransient] = 1
		first.CostUSD = 0.75
		first.InputTokens, first.OutputTokens = 1100, 550
		first.Retries = 1
		second := klaxontype.NewStatsBucket(boundary.UTC())
		second.RunsEnqueued = 3
		second.RunsByStatus[klaxontype.RunStatusCompleted] = 1
		second.RunsByStatus[klaxontype.RunStatusDead] = 2
		second.RunsByStatus[klaxontype.RunStatusCancelled] = 1
		second.RunsFinished = 4
		second.RunsUnknownCost = 1
		second.DLQByClass[klaxontype.ClassContextOverflow] = 1
		second.DLQByClass[klaxontype.ClassTransient] = 1
		second.InputTokens = 10
		empty := klaxontype.NewStatsBucket(boundary.Add(step).UTC())
		want := []*klaxontype.StatsBucket{first, second, empty}
		for _, bucket := range want {
			bucket.SetRates()
		}
		// Until falls inside the third bucket, which is returned whole and
		// empty.
		f.checkStats(&store.StatsSeriesParams{Since: since, Until: boundary.Add(step + time.Minute), Step: step}, want)
		if first.CostPerRunUSD != 0.1875 || first.TokensPerRun != 412.5 || first.RetriesPerRun != 0.25 ||
			second.CostPerRunUSD != 0 || second.TokensPerRun != 2.5 {
			t.Fatalf("per-run figures %+v, %+v", first, second)
		}

		// Of one workflow: only its run and its entry.
		classify := klaxontype.NewStatsBucket(since.UTC())
		classify.RunsEnqueued = 1
		classify.RunsByStatus[klaxontype.RunStatusDead] = 1
		classify.RunsFinished = 1
		classify.DLQByClass[klaxontype.ClassTransient] = 1
		classify.SetRates()
		f.checkStats(&store.StatsSeriesParams{Workflow: "classify", Since: since, Until: boundary.Add(time.Nanosecond), Step: step},
			[]*klaxontype.StatsBucket{classify, klaxontype.NewStatsBucket(boundary.UTC())})
		f.checkStats(&store.StatsSeriesParams{Workflow: "nothing", Since: since, Until: boundary, Step: step},
			[]*klaxontype.StatsBucket{klaxontype.NewStatsBucket(since.UTC())})

		// Buckets of a minute, an hour before: everything falls after them.
		early := make([]*klaxontype.StatsBucket, 3)
		for i := range early {
			early[i] = klaxontype.NewStatsBucket(since.Add(time.Duration(i) * time.Minute).UTC())
		}
		f.checkStats(&store.StatsSeriesParams{Since: since, Until: since.Add(3 * time.Minute), Step: time.Minute}, early)
	})

	t.Run("RefusesBadParameters", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		now := time.Now()
		for _, p := range []*store.StatsSeriesParams{
			{Since: now, Until: now.Add(-time.Hour), Step: time.Minute},
			{Since: now, Until: now, Step: time.Minute},
			{Until: now, Step: time.Minute},
			{Since: now.Add(-time.Hour), Until: now, Step: 0},
			{Since: now.Add(-time.Hour), Until: now, Step: 1500 * time.Millisecond},
			{Since: now.Add(-time.Hour), Until: now, Step: -time.Minute},
			{Since: now.Add(-100 * 24 * time.Hour), Until: now, Step: time.Second},
		} {
			if _, err := f.store.StatsListBuckets(f.ctx, p); !errors.Is(err, klaxontype.ErrInvalid) {
				t.Errorf("StatsListBuckets(%+v) = %v; want ErrInvalid", p, err)
			}
		}
	})
}

// completeWith claims a run, lets it fail and be claimed again retries
// times, and completes it with spend.
func (f *fixture) completeWith(run *klaxontype.Run, retries int, spend klaxontype.Spend) {
	f.t.Helper()
	held := f.claimRun(run, holderA, longLease).Run
	for range retries {
		f.fail(held, klaxontype.RunStatusRetrying, failedAttempt(held, holderA))
		held = f.claimRun(run, holderA, longLease).Run
	}
	if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{
		Lease: leaseOf(held), Holder: holderA, Output: []byte(`{"ok": true}`), Spend: spend,
	}); err != nil {
		f.t.Fatalf("RunComplete of run %s: %v", run.ID, err)
	}
}

// checkStats compares StatsSeries with want, bucket by bucket.
func (f *fixture) checkStats(params *store.StatsSeriesParams, want []*klaxontype.StatsBucket) {
	f.t.Helper()
	got, err := f.store.StatsListBuckets(f.ctx, params)
	if err != nil {
		f.t.Fatalf("StatsListBuckets(%+v): %v", params, err)
	}
	if !reflect.DeepEqual(got, want) {
		f.t.Errorf("StatsListBuckets(workflow %q, step %s):\n%s\nwant\n%s", params.Workflow, params.Step, describeBuckets(got), describeBuckets(want))
	}
}

func describeBuckets(buckets []*klaxontype.StatsBucket) string {
	lines := make([]string, len(buckets))
	for i, b := range buckets {
		lines[i] = fmt.Sprintf("  %+v", *b)
	}
	return strings.Join(lines, "\n")
}
