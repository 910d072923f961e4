package klaxontype_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// A record built from the store's view counts a resolved step's failures but
// not its resolution, leaves out a step whose work was compensated, charges a
// failure outside any step to no step, and names a step called in a loop
// once in the manifest.
func TestCompletionRecordOf(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	run := &klaxontype.Run{
		ID: "01JRUN", Status: klaxontype.RunStatusCancelled, Attempt: 4, Retries: 3,
		Spend:     klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 500}, Cost: klaxontype.UnknownCost(), ModelCalls: 2},
		Failure:   &klaxontype.RunFailure{Class: klaxontype.ClassCancelled, Reason: "cancelled by carol"},
		CreatedAt: created, FinishedAt: created.Add(90 * time.Second),
	}
	log := []*klaxontype.StepRecord{ // not in sequence order
		{Seq: 3, Name: "page", Status: klaxontype.StepStatusCompleted},
		{Seq: 1, Name: "fetch", Status: klaxontype.StepStatusCompleted},
		{Seq: 2, Name: "page", Status: klaxontype.StepStatusCompleted, ResolvedBy: "dave"},
		{Seq: 4, Name: "charge", Status: klaxontype.StepStatusCompensated},
	}
	history := []*klaxontype.Attempt{
		{Attempt: 1, Step: "page", StepSeq: 2},
		{Attempt: 2, Step: "page", StepSeq: 2},
		{Attempt: 3}, // the workflow body failed outside any step
	}
	got := klaxontype.CompletionRecordOf(run, []string{"fetch", "page", "charge", "notify"}, log, history)
	want := &klaxontype.CompletionRecord{
		Status: klaxontype.RunStatusCancelled, FailureClass: klaxontype.ClassCancelled,
		Manifest: klaxontype.StepManifest{
			Expected: []string{"fetch", "page", "charge", "notify"},
			Executed: []string{"fetch", "page"},
			Missing:  []string{"charge", "notify"},
		},
		Steps: []klaxontype.StepAttempts{
			{Seq: 1, Step: "fetch", Attempts: 1, Completed: true},
			{Seq: 2, Step: "page", Attempts: 2, Completed: true},
			{Seq: 3, Step: "page", Attempts: 1, Completed: true},
		},
		Attempts: 4, Retries: 3, Spend: run.Spend, Duration: 90 * time.Second,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CompletionRecordOf:\n got %+v\nwant %+v", got, want)
	}
	if got.StepAttemptsTotal() != 4 {
		t.Errorf("StepAttemptsTotal = %d; want 4", got.StepAttemptsTotal())
	}
}

// A workflow that declares no manifest, and a run with no steps, give empty
// lists, never null ones, so the JSON of every record has the same shape.
func TestCompletionRecordOfNothing(t *testing.T) {
	t.Parallel()
	run := &klaxontype.Run{Status: klaxontype.RunStatusCancelled}
	got := klaxontype.CompletionRecordOf(run, nil, nil, nil)
	m := got.Manifest
	if m.Expected == nil || m.Executed == nil || m.Missing == nil || got.Steps == nil {
		t.Errorf("record of a run with nothing has a nil list: %+v", got)
	}
	if !m.Complete() || len(got.Steps) != 0 {
		t.Errorf("record of a run with nothing: %+v; want an empty, complete manifest", got)
	}
}
