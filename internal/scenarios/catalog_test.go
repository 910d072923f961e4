package scenarios_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/scenarios"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// The catalog covers every example issue 15 lists, so that dropping one is a
// failing test rather than a quiet gap.
func TestCatalogCoversTheIssue(t *testing.T) {
	t.Parallel()
	catalog, err := scenarios.Load(catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	for example, name := range map[string]string{
		"a semantic validator failure":            "semantic_validator",
		"partial completion":                      "partial_completion",
		"a swallowed error":                       "swallowed_error",
		"a late result after a step timeout":      "late_result_after_timeout",
		"a budget overrun":                        "budget_overrun",
		"a 429 with Retry-After":                  "rate_limited_retry_after",
		"a context overflow":                      "context_overflow",
		"a policy refusal":                        "policy_refusal",
		"a permanent failure":                     "permanent_failure",
		"an exception":                            "exception",
		"a panic":                                 "panic",
		"nondeterminism":                          "nondeterminism",
		"a failed compensation":                   "compensation_failed",
		"cancel while running":                    "cancel_while_running",
		"a worker SIGKILLed mid-step, taken over": "worker_killed_mid_step",
		"a stale worker's late checkpoint":        "stale_late_checkpoint",
		"resolve":                                 "resolve",
		"replay from a step":                      "replay_from_step",
		// issue 17: durable waits, in every language
		"a sleep resumed without re-running steps": "sleep_resumes",
		"a signal kept before the wait":            "signal_kept_before_wait",
		"a signal wait that times out":             "signal_times_out",
		"an approval approved":                     "approval_approved",
		// issue 18: child runs, in every language
		"a fan-out to children awaited together":    "children_fan_out",
		"a dead child failing its parent":           "child_dies_fails_parent",
		"a retried parent starting no second child": "child_started_once_on_retry",
		"a child workflow that does not exist":      "child_of_unknown_workflow",
	} {
		if catalog.Get(name) == nil {
			t.Errorf("no scenario %s for the issue's example %q", name, example)
		}
	}
	actions := []string{"cancel", "kill", "stale", "resolve", "replay", "signal", "approve", "release_children"}
	for _, scenario := range catalog.Scenarios {
		want := scenario.Expect
		if !slices.Contains(klaxontype.RunStatuses(), klaxontype.RunStatus(want.Status)) {
			t.Errorf("%s: expected status %q is not a run status", scenario.Name, want.Status)
		}
		if want.Class != "" && !klaxontype.FailureClass(want.Class).Valid() {
			t.Errorf("%s: expected class %q is not a failure class", scenario.Name, want.Class)
		}
		if action := scenario.Action; action != nil && !slices.Contains(actions, action.Kind) {
			t.Errorf("%s: unknown action %q", scenario.Name, action.Kind)
		}
		for _, step := range scenario.Steps {
			if child := step.Child; child != nil && child.Workflow != "no_such_workflow" && (catalog.Get(child.Workflow) == nil || !catalog.Get(child.Workflow).Child) {
				t.Errorf("%s: step %s fans out to %q, which is not a child scenario of the catalog", scenario.Name, step.Name, child.Workflow)
			}
		}
		if scenario.About == "" {
			t.Errorf("%s: say in about what the scenario proves", scenario.Name)
		}
	}
}

// The effects server counts each effect per key, and a block holds its
// request until released, and every later one returns at once.
func TestEffects(t *testing.T) {
	t.Parallel()
	effects := scenarios.NewEffects()
	server := httptest.NewServer(effects.Handler())
	defer server.Close()
	client := &scenarios.EffectsClient{URL: server.URL}
	ctx := context.Background()
	for want := 1; want <= 3; want++ {
		if got, err := client.Hit(ctx, "run-a", "fetch"); err != nil || got != want {
			t.Fatalf("hit %d: got %d, %v", want, got, err)
		}
	}
	if got, _ := client.Hit(ctx, "run-b", "fetch"); got != 1 {
		t.Errorf("another key's first hit counted %d", got)
	}
	if got, err := client.Count(ctx, "run-a", "fetch"); err != nil || got != 3 {
		t.Errorf("count: got %d, %v; want 3", got, err)
	}

	released := make(chan error, 1)
	go func() { released <- client.Block(ctx, "run-a", "wait") }()
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := effects.WaitBlocked(waitCtx, "run-a", "wait"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-released:
		t.Fatalf("the block returned (%v) before its release", err)
	case <-time.After(50 * time.Millisecond):
	}
	effects.Release("run-a", "wait")
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	if err := client.Block(ctx, "run-a", "wait"); err != nil {
		t.Errorf("a block after the release: %v", err)
	}
}
