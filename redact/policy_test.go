package redact_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/redact"
)

func mustRule(t *testing.T, paths, patterns []string) *redact.Rule {
	t.Helper()
	rule, err := redact.NewRule(paths, patterns)
	if err != nil {
		t.Fatal(err)
	}
	return rule
}

// TestSetAddsThePolicyToRegistrations: a workflow's rule in force masks
// what its registration declares and what the policy gives for it and for
// every workflow; a workflow without a registration gets the policy's.
func TestSetAddsThePolicyToRegistrations(t *testing.T) {
	t.Parallel()
	policy := redact.NewPolicy(map[string]*redact.Rule{
		"onboard":           mustRule(t, []string{"$.customer.email"}, nil),
		redact.AllWorkflows: mustRule(t, nil, []string{`sk-[a-z]{8,}`}),
		"billing":           mustRule(t, []string{"$.card"}, nil),
	})
	set, err := redact.NewSet([]*klaxontype.WorkflowInfo{
		{Name: "onboard", Policies: &klaxontype.WorkflowPolicies{Redact: []string{"$.customer.phone"}}},
		{Name: "plain"},
	}, policy)
	if err != nil {
		t.Fatal(err)
	}
	input := json.RawMessage(`{"customer":{"email":"e","phone":"p","name":"n"},"card":"c","note":"sk-abcdefghij"}`)
	for workflow, want := range map[string]string{
		"onboard": `{"card":"c","customer":{"email":"[redacted]","name":"n","phone":"[redacted]"},"note":"[redacted]"}`,
		"plain":   `{"card":"c","customer":{"email":"e","name":"n","phone":"p"},"note":"[redacted]"}`,
		"billing": `{"card":"[redacted]","customer":{"email":"e","name":"n","phone":"p"},"note":"[redacted]"}`,
		"unknown": `{"card":"c","customer":{"email":"e","name":"n","phone":"p"},"note":"[redacted]"}`,
	} {
		if got := string(set.For(workflow).JSON(input)); got != want {
			t.Errorf("%s: %s; want %s", workflow, got, want)
		}
	}
	if set.Empty() {
		t.Error("the set says it masks nothing")
	}
	// Without a policy, the registrations alone.
	alone, err := redact.NewSet([]*klaxontype.WorkflowInfo{{Name: "plain"}}, nil)
	if err != nil || !alone.Empty() || !alone.For("plain").Empty() {
		t.Errorf("a set of a workflow without rules and no policy: %v; want it empty", err)
	}
}

func TestDroppedListsWhatARegistrationNoLongerMasks(t *testing.T) {
	t.Parallel()
	before := &klaxontype.WorkflowPolicies{Redact: []string{"$.a", "$.b"}, RedactPatterns: []string{"x+"}}
	paths, patterns := redact.Dropped(before, &klaxontype.WorkflowPolicies{Redact: []string{"$.b", "$.c"}})
	if !slices.Equal(paths, []string{"$.a"}) || !slices.Equal(patterns, []string{"x+"}) {
		t.Errorf("Dropped: %v, %v; want [$.a], [x+]", paths, patterns)
	}
	if paths, patterns := redact.Dropped(before, nil); len(paths) != 2 || len(patterns) != 1 {
		t.Errorf("a registration without policies drops %v, %v; want every path and pattern", paths, patterns)
	}
	if paths, patterns := redact.Dropped(nil, before); paths != nil || patterns != nil {
		t.Errorf("a first registration drops %v, %v; want nothing", paths, patterns)
	}
}
