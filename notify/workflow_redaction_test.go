package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

// TestWorkflowRedactionAppliesToEveryTarget: the workflow's redaction rule
// masks a dead-letter entry for a target of the channels file that has no
// redact list of its own, in the input and in the error messages; the store
// keeps the values.
func TestWorkflowRedactionAppliesToEveryTarget(t *testing.T) {
	t.Parallel()
	const email, key = "ada@example.com", "sk-ABCDEFGHIJKLMNOPQRSTUVWX"
	ctx := context.Background()
	target := newReceiver(t, always(200))
	config, err := notify.Parse([]byte("channels:\n  review:\n    - {name: plain, type: webhook, url: \""+target.server.URL+"\", secret: s}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	if err := st.WorkflowRegister(ctx, &store.WorkflowRegisterParams{Name: "signup", Version: 1, Policies: &klaxontype.WorkflowPolicies{
		Redact: []string{"$.customer.email"}, RedactPatterns: []string{`sk-[A-Za-z0-9]{20,}`},
	}}); err != nil {
		t.Fatal(err)
	}
	input := `{"customer":{"email":"` + email + `"},"key":"` + key + `"}`
	if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{
		ID: ulid.Make().String(), Workflow: "signup", WorkflowVersion: 1, Input: []byte(input), Actor: "test",
	}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.RunsClaim(ctx, &store.RunsClaimParams{Holder: "worker", Workflows: []string{"signup"}, Limit: 1, LeaseDuration: time.Hour})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("RunsClaim: %d, %v", len(claimed), err)
	}
	run := claimed[0].Run
	entryID := ulid.Make().String()
	if err := st.RunFail(ctx, &store.RunFailParams{
		Lease: store.Lease{RunID: run.ID, Epoch: run.Epoch}, Holder: "worker",
		Attempt: &klaxontype.Attempt{RunID: run.ID, Attempt: run.Attempt, At: time.Now(), Worker: "worker",
			Class: klaxontype.ClassPermanent, Message: "key " + key + " refused", ClassifiedBy: "error"},
		Next:       klaxontype.RunStatusDead,
		Failure:    &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "key " + key + " refused"},
		DeadLetter: &store.DeadLetterParams{ID: entryID, Channel: "review"},
	}); err != nil {
		t.Fatal(err)
	}
	d := notify.New(st, config, notify.Options{Holder: "test", Backoff: fastBackoff, MaxAttempts: 100})
	deliverUntil(t, d, "the target takes it", func() bool { b, _ := target.taken(); return len(b) == 1 })
	bodies, _ := target.taken()
	if body := string(bodies[0]); strings.Contains(body, email) || strings.Contains(body, key) || !strings.Contains(body, "[redacted]") {
		t.Errorf("the target got the secrets, or no marker: %s", body)
	}
	stored, err := st.DLQGet(ctx, entryID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stored.Input), email) {
		t.Errorf("the stored entry lost its values: %s", stored.Input)
	}
}
