package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

// TestWorkflowRedactionAppliesToEveryTarget: the workflow's redaction rule
// masks a dead-letter entry for a target of the channels file that has no
// redact list of its own, in the input and in the error messages; the store
// keeps the values.
func TestWorkflowRedactionAppliesToEveryTarget(t *testing.T) {
	t.Parallel()
	body, stored := deliverSignupDeadLetter(t, &klaxontype.WorkflowPolicies{
		Redact: []string{"$.customer.email"}, RedactPatterns: []string{`sk-[A-Za-z0-9]{20,}`},
	}, nil)
	if strings.Contains(body, signupEmail) || strings.Contains(body, signupKey) || !strings.Contains(body, "[redacted]") {
		t.Errorf("the target got the secrets, or no marker: %s", body)
	}
	if !strings.Contains(stored, signupEmail) {
		t.Errorf("the stored entry lost its values: %s", stored)
	}
}

// TestServerRedactionPolicyAppliesToEveryTarget: the operator's policy
// (klaxon server --redaction) masks a dead-letter entry of a workflow whose
// registration declares no rule.
func TestServerRedactionPolicyAppliesToEveryTarget(t *testing.T) {
	t.Parallel()
	email, err := redact.NewRule([]string{"$.customer.email"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := redact.NewRule(nil, []string{`sk-[A-Za-z0-9]{20,}`})
	if err != nil {
		t.Fatal(err)
	}
	policy := redact.NewPolicy(map[string]*redact.Rule{"signup": email, redact.AllWorkflows: keys})
	body, stored := deliverSignupDeadLetter(t, nil, policy)
	if strings.Contains(body, signupEmail) || strings.Contains(body, signupKey) || !strings.Contains(body, "[redacted]") {
		t.Errorf("the target got the secrets, or no marker: %s", body)
	}
	if !strings.Contains(stored, signupEmail) {
		t.Errorf("the stored entry lost its values: %s", stored)
	}
}

const signupEmail, signupKey = "ada@example.com", "sk-ABCDEFGHIJKLMNOPQRSTUVWX"

// deliverSignupDeadLetter dead-letters a run of workflow signup, registered
// with policies, whose input and error hold signupEmail and signupKey, and
// delivers it to a target without a redact list of its own, by a deliverer
// with the operator's policy; it returns what the target got and the input
// the store keeps.
func deliverSignupDeadLetter(t *testing.T, policies *klaxontype.WorkflowPolicies, policy *redact.Policy) (body, storedInput string) {
	t.Helper()
	ctx := context.Background()
	target := newReceiver(t, always(200))
	config, err := notify.Parse([]byte("channels:\n  review:\n    - {name: plain, type: webhook, url: \""+target.server.URL+"\", secret: s}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	if err := st.WorkflowRegister(ctx, &store.WorkflowRegisterParams{Name: "signup", Version: 1, Policies: policies}); err != nil {
		t.Fatal(err)
	}
	input := `{"customer":{"email":"` + signupEmail + `"},"key":"` + signupKey + `"}`
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
			Class: klaxontype.ClassPermanent, Message: "key " + signupKey + " refused", ClassifiedBy: "error"},
		Next:       klaxontype.RunStatusDead,
		Failure:    &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "key " + signupKey + " refused"},
		DeadLetter: &store.DeadLetterParams{ID: entryID, Channel: "review"},
	}); err != nil {
		t.Fatal(err)
	}
	d := notify.New(st, config, notify.Options{Holder: "test", Backoff: fastBackoff, MaxAttempts: 100, Redaction: policy})
	deliverUntil(t, d, "the target takes it", func() bool { b, _ := target.taken(); return len(b) == 1 })
	bodies, _ := target.taken()
	stored, err := st.DLQGet(ctx, entryID)
	if err != nil {
		t.Fatal(err)
	}
	return string(bodies[0]), string(stored.Input)
}
