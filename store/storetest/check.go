package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

const (
	// precision is how close a time the caller supplied must come back: stores
	// keep microseconds, and may round rather than truncate.
	precision = time.Millisecond
	// clockSlack is how far a time the store takes from its own clock may lie
	// outside the window the test measured around the call (the database's
	// clock, a batch's start).
	clockSlack = time.Second
)

// checkErrorIs reports err unless it matches target.
func checkErrorIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v; want %v", what, err, target)
	}
}

// checkJSON reports got unless it is the same JSON value as want: a store may
// keep JSON in a normalised form, so bytes need not match.
func checkJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var gotValue, wantValue any
	if err := json.Unmarshal(want, &wantValue); err != nil {
		t.Fatalf("%s: the test's JSON %q is invalid: %v", what, want, err)
	}
	if err := json.Unmarshal(got, &gotValue); err != nil {
		t.Errorf("%s: %q is not JSON: %v", what, got, err)
		return
	}
	if !reflect.DeepEqual(gotValue, wantValue) {
		t.Errorf("%s: %s; want %s", what, got, want)
	}
}

// checkTimeNear reports got unless it lies within tolerance of want.
func checkTimeNear(t *testing.T, what string, got, want time.Time, tolerance time.Duration) {
	t.Helper()
	if got.IsZero() {
		t.Errorf("%s is not set; want %s", what, want.Format(time.RFC3339Nano))
		return
	}
	if diff := got.Sub(want).Abs(); diff > tolerance {
		t.Errorf("%s is %s; want %s (off by %s)", what, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano), diff)
	}
}

// checkTimeBetween reports a time the store set from its clock unless it lies
// in the window the test measured around the call.
func checkTimeBetween(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.IsZero() {
		t.Errorf("%s is not set", what)
		return
	}
	if got.Before(before.Add(-clockSlack)) || got.After(after.Add(clockSlack)) {
		t.Errorf("%s is %s; want between %s and %s", what, got.Format(time.RFC3339Nano),
			before.Format(time.RFC3339Nano), after.Format(time.RFC3339Nano))
	}
}

// checkIDs reports got unless it holds exactly want, in that order.
func checkIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: %v; want %v", what, got, want)
	}
}

// checkIDSet reports got unless it holds exactly want, in any order, each once.
func checkIDSet(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s: %v; want %v (in any order)", what, got, want)
	}
}

// eventTypes lists the types of events in order.
func eventTypes(events []*klaxontype.Event) []klaxontype.EventType {
	types := make([]klaxontype.EventType, len(events))
	for i, event := range events {
		types[i] = event.Type
	}
	return types
}

// eventsOfType keeps the events of one type.
func eventsOfType(events []*klaxontype.Event, typ klaxontype.EventType) []*klaxontype.Event {
	var kept []*klaxontype.Event
	for _, event := range events {
		if event.Type == typ {
			kept = append(kept, event)
		}
	}
	return kept
}

// checkEventOrder reports events unless want appears among their types in
// this order; other events may come between.
func checkEventOrder(t *testing.T, what string, events []*klaxontype.Event, want ...klaxontype.EventType) {
	t.Helper()
	types := eventTypes(events)
	next := 0
	for _, typ := range types {
		if next < len(want) && typ == want[next] {
			next++
		}
	}
	if next < len(want) {
		t.Errorf("%s: event log %v; want %v in this order", what, types, want)
	}
}

// checkOneEvent reports events unless exactly one has the type, and returns it
// (nil if there is none).
func checkOneEvent(t *testing.T, what string, events []*klaxontype.Event, typ klaxontype.EventType) *klaxontype.Event {
	t.Helper()
	found := eventsOfType(events, typ)
	if len(found) != 1 {
		t.Errorf("%s: %d %s events in %v; want 1", what, len(found), typ, eventTypes(events))
		if len(found) == 0 {
			return nil
		}
	}
	return found[0]
}

// checkEvent reports an event whose run, actor or step differ from want's.
func checkEvent(t *testing.T, what string, got *klaxontype.Event, want klaxontype.Event) {
	t.Helper()
	if got == nil {
		return
	}
	if got.RunID != want.RunID || got.Actor != want.Actor || got.Step != want.Step || got.StepSeq != want.StepSeq {
		t.Errorf("%s: %s event of run %s by %q about step %d %q; want run %s by %q about step %d %q",
			what, got.Type, got.RunID, got.Actor, got.StepSeq, got.Step, want.RunID, want.Actor, want.StepSeq, want.Step)
	}
	if got.At.IsZero() {
		t.Errorf("%s: %s event has no time", what, got.Type)
	}
}

// checkSuppressed reports unless the run's event log holds exactly n
// duplicate.suppressed events, all by actor.
func (f *fixture) checkSuppressed(what, runID, actor string, n int) {
	f.t.Helper()
	suppressed := eventsOfType(f.events(runID), klaxontype.EventDuplicateSuppressed)
	if len(suppressed) != n {
		f.t.Errorf("%s: %d duplicate.suppressed events; want %d", what, len(suppressed), n)
	}
	for _, event := range suppressed {
		if event.Actor != actor {
			f.t.Errorf("%s: duplicate.suppressed event by %q; want %q", what, event.Actor, actor)
		}
	}
}

// checkRunUnchanged reports any difference a refused write made to a run:
// everything but UpdatedAt must be as it was.
func checkRunUnchanged(t *testing.T, what string, got, before *klaxontype.Run) {
	t.Helper()
	g, b := *got, *before
	g.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	if g.Failure != nil && b.Failure != nil && *g.Failure == *b.Failure {
		g.Failure = b.Failure
	}
	if bytes.Equal(g.Output, b.Output) {
		g.Output = b.Output
	}
	if bytes.Equal(g.Input, b.Input) {
		g.Input = b.Input
	}
	if !reflect.DeepEqual(g, b) {
		t.Errorf("%s changed the run:\n got  %+v\n want %+v", what, g, b)
	}
}
