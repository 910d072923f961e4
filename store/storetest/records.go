package storetest

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testCompletionRecords checks that a terminal event keeps the completion
// record it was written with, and that every other event has none.
func testCompletionRecords(t *testing.T, h *harness) {
	t.Run("Completed", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)
		want := completedRecord()
		err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{
			Lease: leaseOf(held), Holder: holderA, Output: []byte(`{"ok": true}`), Record: want,
		})
		if err != nil {
			t.Fatalf("RunComplete with a record: %v", err)
		}
		events := f.events(held.ID)
		checkRecord(t, "run.completed", checkOneEvent(t, "completion", events, klaxontype.EventRunCompleted), want)
		checkNoOtherRecords(t, events, klaxontype.EventRunCompleted)
	})

	t.Run("Dead", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		want := deadRecord()
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: failedAttempt(held, holderA),
			Next: klaxontype.RunStatusDead, Failure: permanentFailure(), DeadLetter: newDeadLetter(), Record: want,
		})
		if err != nil {
			t.Fatalf("RunFail to dead with a record: %v", err)
		}
		events := f.events(held.ID)
		checkRecord(t, "run.dead", checkOneEvent(t, "death", events, klaxontype.EventRunDead), want)
		checkNoOtherRecords(t, events, klaxontype.EventRunDead)
	})

	t.Run("DeadAfterCompensating", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusCompensating, nil)
		want := deadRecord()
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Next: klaxontype.RunStatusDead,
			Failure: permanentFailure(), DeadLetter: newDeadLetter(), Record: want,
		})
		if err != nil {
			t.Fatalf("RunFail from compensating to dead with a record: %v", err)
		}
		checkRecord(t, "run.dead after compensating", checkOneEvent(t, "death", f.events(held.ID), klaxontype.EventRunDead), want)
	})

	t.Run("Without", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		for _, status := range []klaxontype.RunStatus{klaxontype.RunStatusCompleted, klaxontype.RunStatusDead} {
			run := f.runIn(status, nil)
			checkNoOtherRecords(t, f.events(run.ID), "")
		}
	})

	// Completions written together (one batch, for a store that batches
	// them) keep each its own record, or none.
	t.Run("ConcurrentCompletions", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		const runs = 8
		held := make([]*klaxontype.Run, runs)
		records := make([]*klaxontype.CompletionRecord, runs)
		for i := range held {
			held[i] = f.runIn(klaxontype.RunStatusRunning, nil)
			if i%2 == 0 {
				records[i] = completedRecord()
				records[i].Attempts = i + 1
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, runs)
		for i := range held {
			wg.Go(func() {
				errs[i] = f.store.RunComplete(f.ctx, &store.RunCompleteParams{
					Lease: leaseOf(held[i]), Holder: holderA, Output: []byte(`{"ok": true}`), Record: records[i],
				})
			})
		}
		wg.Wait()
		for i, run := range held {
			if errs[i] != nil {
				t.Fatalf("RunComplete of run %d: %v", i, errs[i])
			}
			event := checkOneEvent(t, "completion", f.events(run.ID), klaxontype.EventRunCompleted)
			checkRecord(t, "run.completed of a concurrent completion", event, records[i])
		}
	})

	t.Run("OnlyOnDead", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: failedAttempt(held, holderA),
			Next: klaxontype.RunStatusRetrying, RetryAt: time.Now().Add(time.Hour), Record: deadRecord(),
		})
		if err == nil {
			t.Fatal("RunFail to retrying with a completion record was accepted")
		}
		if got := f.get(held.ID); got.Status != klaxontype.RunStatusRunning {
			t.Errorf("after a refused RunFail the run is %s; want running", got.Status)
		}
	})
}

// completedRecord is the record of a run that completed its three expected
// steps after one retry, one of its model calls at an unknown price.
func completedRecord() *klaxontype.CompletionRecord {
	return &klaxontype.CompletionRecord{
		Status: klaxontype.RunStatusCompleted,
		Manifest: klaxontype.StepManifest{
			Expected: []string{"fetch", "summarize", "publish"},
			Executed: []string{"fetch", "summarize", "publish"},
			Missing:  []string{},
		},
		Steps: []klaxontype.StepAttempts{
			{Seq: 1, Step: "fetch", Attempts: 1, Completed: true},
			{Seq: 2, Step: "summarize", Attempts: 2, Completed: true},
			{Seq: 3, Step: "publish", Attempts: 1, Completed: true},
		},
		Attempts: 2, Retries: 1,
		Spend: klaxontype.Spend{
			Usage:      klaxontype.TokenUsage{InputTokens: 1200, OutputTokens: 34, CachedTokens: 1000},
			Cost:       klaxontype.UnknownCost(),
			ModelCalls: 2,
		},
		Duration: 3200*time.Millisecond + 7,
	}
}

// deadRecord is the record of a run that died in its second expected step.
func deadRecord() *klaxontype.CompletionRecord {
	return &klaxontype.CompletionRecord{
		Status:       klaxontype.RunStatusDead,
		FailureClass: klaxontype.ClassPermanent,
		Manifest: klaxontype.StepManifest{
			Expected: []string{"fetch", "summarize"},
			Executed: []string{"fetch"},
			Missing:  []string{"summarize"},
		},
		Steps: []klaxontype.StepAttempts{
			{Seq: 1, Step: "fetch", Attempts: 1, Completed: true},
			{Seq: 2, Step: "summarize", Attempts: 3, Completed: false},
		},
		Attempts: 3, Retries: 2,
		Spend: klaxontype.Spend{
			Usage:      klaxontype.TokenUsage{InputTokens: 900, OutputTokens: 12},
			Cost:       klaxontype.KnownCost(0.0012),
			ModelCalls: 3,
		},
		Duration: time.Minute,
	}
}

// checkRecord reports an event whose completion record is not want.
func checkRecord(t *testing.T, what string, event *klaxontype.Event, want *klaxontype.CompletionRecord) {
	t.Helper()
	if event == nil {
		return
	}
	if !reflect.DeepEqual(event.Record, want) {
		got, _ := json.Marshal(event.Record)
		wanted, _ := json.Marshal(want)
		t.Errorf("%s record:\n got %s\nwant %s", what, got, wanted)
	}
}

// checkNoOtherRecords reports an event, other than one of type except, that
// carries a completion record.
func checkNoOtherRecords(t *testing.T, events []*klaxontype.Event, except klaxontype.EventType) {
	t.Helper()
	for _, e := range events {
		if e.Type != except && e.Record != nil {
			t.Errorf("%s event carries a completion record %+v; want none", e.Type, e.Record)
		}
	}
}
