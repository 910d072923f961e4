package redact

import (
	"fmt"
	"slices"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// RuleOf is the redaction rule a workflow was registered with; nil when it
// has none. A recorded rule that does not compile is an error rather than no
// rule: the values it was meant to hide must not show.
func RuleOf(workflow *klaxontype.WorkflowInfo) (*Rule, error) {
	policies := workflow.Policies
	if policies == nil || len(policies.Redact)+len(policies.RedactPatterns) == 0 {
		return nil, nil
	}
	rule, err := NewRule(policies.Redact, policies.RedactPatterns)
	if err != nil {
		return nil, fmt.Errorf("the recorded redaction rule of workflow %q: %w", workflow.Name, err)
	}
	return rule, nil
}

// Rules are the rules of the workflows that have one, by workflow name.
func Rules(workflows []*klaxontype.WorkflowInfo) (map[string]*Rule, error) {
	var rules map[string]*Rule
	for _, workflow := range workflows {
		rule, err := RuleOf(workflow)
		if err != nil {
			return nil, err
		}
		if rule.Empty() {
			continue
		}
		if rules == nil {
			rules = make(map[string]*Rule)
		}
		rules[workflow.Name] = rule
	}
	return rules, nil
}

// DeadLetter returns a copy of entry with its input, reason and attempts'
// messages masked by the rule; entry itself is unchanged, so that a caller
// holding it (an outbox message retried later) keeps the real values.
func (r *Rule) DeadLetter(entry *klaxontype.DeadLetter) *klaxontype.DeadLetter {
	if entry == nil || r.Empty() {
		return entry
	}
	masked := *entry
	masked.Input = r.JSON(entry.Input)
	masked.Reason, masked.CloseReason = r.Text(entry.Reason), r.Text(entry.CloseReason)
	if entry.Attempts != nil {
		masked.Attempts = make([]*klaxontype.Attempt, len(entry.Attempts))
		for i, attempt := range entry.Attempts {
			copied := *attempt
			copied.Message, copied.Stack = r.Text(attempt.Message), r.Text(attempt.Stack)
			masked.Attempts[i] = &copied
		}
	}
	return &masked
}

// Dropped lists the paths and patterns of the rule recorded before that the
// rule declared now lacks: a registration that would quietly stop masking
// them, since the latest registration of a workflow's name wins.
func Dropped(before, now *klaxontype.WorkflowPolicies) (paths, patterns []string) {
	if before == nil {
		return nil, nil
	}
	var nowPaths, nowPatterns []string
	if now != nil {
		nowPaths, nowPatterns = now.Redact, now.RedactPatterns
	}
	for _, path := range before.Redact {
		if !slices.Contains(nowPaths, path) {
			paths = append(paths, path)
		}
	}
	for _, pattern := range before.RedactPatterns {
		if !slices.Contains(nowPatterns, pattern) {
			patterns = append(patterns, pattern)
		}
	}
	return paths, patterns
}
