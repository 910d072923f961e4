package klaxon_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// A step failure the workflow body swallowed is still recorded: a step.failed
// event with its class and message, whether the run then completes or dies
// partial_completion, and the partial_completion reason names it.
func TestSwallowedStepFailureIsRecorded(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	body := func(ctx context.Context, _ int) (string, error) {
		if _, err := klaxon.Step(ctx, "charge", func(ctx context.Context) (string, error) {
			return "", klaxon.Permanent(errors.New("card declined"))
		}); err != nil {
			return "handled", nil // the body swallows the failure
		}
		return klaxon.Step(ctx, "ship", func(ctx context.Context) (string, error) { return "shipped", nil })
	}
	manifested := klaxon.NewWorkflow("checkout", body, klaxon.ExpectSteps("charge", "ship"), fastRetry)
	lenient := klaxon.NewWorkflow("checkout-lenient", body, fastRetry)
	client := startClient(t, st, nil, manifested, lenient)

	dead, _ := manifested.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, dead.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassPartialCompletion {
		t.Fatalf("run %s, failure %+v; want dead partial_completion", run.Status, run.Failure)
	}
	if !strings.Contains(run.Failure.Reason, "card declined") || !strings.Contains(run.Failure.Reason, `"charge"`) {
		t.Fatalf("reason %q does not name the handled failure of charge", run.Failure.Reason)
	}
	checkStepFailedEvent(t, st, run.ID)

	completed, _ := lenient.Enqueue(context.Background(), client, 0)
	run = awaitRun(t, client, completed.Run.ID)
	if run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("lenient run %s, failure %+v; want completed", run.Status, run.Failure)
	}
	checkStepFailedEvent(t, st, run.ID)
}

// checkStepFailedEvent asserts one step.failed event for the charge step,
// with its class and message (a partial_completion attempt has one of its
// own, without a step).
func checkStepFailedEvent(t *testing.T, st interface {
	EventList(context.Context, string) ([]*klaxontype.Event, error)
}, runID string) {
	t.Helper()
	events, err := st.EventList(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	var failed []*klaxontype.Event
	for _, event := range events {
		if event.Type == klaxontype.EventStepFailed && event.Step != "" {
			failed = append(failed, event)
		}
	}
	if len(failed) != 1 || failed[0].Step != "charge" || failed[0].StepSeq != 1 ||
		!strings.Contains(failed[0].Message, "permanent") || !strings.Contains(failed[0].Message, "card declined") {
		var types []string
		for _, event := range events {
			types = append(types, string(event.Type)+": "+event.Message)
		}
		t.Fatalf("run %s: want one step.failed event for charge with its class and message; events:\n%s", runID, strings.Join(types, "\n"))
	}
}
