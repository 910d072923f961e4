package redact

import (
	"slices"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// AllWorkflows is the workflow name of a Policy's rule for every workflow.
const AllWorkflows = "*"

// Policy is the operator's redaction rules, by workflow (klaxon server
// --redaction FILE). A workflow's rule in force is the one its registration
// declares with the policy's rules for it and for AllWorkflows added: the
// workflow's code declares what its developers know is secret, the operator
// what must be masked whatever the code says, and no registration can drop
// the operator's part. A nil Policy adds nothing.
type Policy struct {
	rules map[string]*Rule
}

// NewPolicy makes a policy of rules by workflow name, AllWorkflows's
// applying to every workflow.
func NewPolicy(rules map[string]*Rule) *Policy {
	p := &Policy{rules: make(map[string]*Rule, len(rules))}
	for name, rule := range rules {
		if !rule.Empty() {
			p.rules[name] = rule
		}
	}
	return p
}

// For returns what the policy masks in workflow's payloads: its own rule
// and AllWorkflows's; nil when it masks nothing there.
func (p *Policy) For(workflow string) *Rule {
	if p == nil {
		return nil
	}
	return Merge(p.rules[workflow], p.rules[AllWorkflows])
}

// Workflows lists the workflows the policy names, sorted, AllWorkflows
// among them when it has a rule for every workflow.
func (p *Policy) Workflows() []string {
	if p == nil {
		return nil
	}
	names := make([]string, 0, len(p.rules))
	for name := range p.rules {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Merge returns a rule that masks what each of rules masks; nil when none
// masks anything. A rule given alone comes back as it is.
func Merge(rules ...*Rule) *Rule {
	var merged *Rule
	for _, rule := range rules {
		switch {
		case rule.Empty():
		case merged == nil:
			merged = rule
		default:
			merged = &Rule{
				paths:    append(slices.Clip(merged.paths), rule.paths...),
				patterns: append(slices.Clip(merged.patterns), rule.patterns...),
			}
		}
	}
	return merged
}

// Set is the rules in force for every workflow: each registration's rule
// with a Policy's added. The HTTP API, the notifications and the traces
// find a workflow's rule here, so that what a policy adds reaches each of
// them.
type Set struct {
	rules map[string]*Rule
	// others is the policy's rule for every workflow, for those without a
	// rule of their own (a run enqueued for a workflow no worker has
	// registered yet).
	others *Rule
}

// NewSet compiles the recorded rules of workflows and adds policy's (nil
// for none). A recorded rule that does not compile is an error rather than
// no rule, as for RuleOf.
func NewSet(workflows []*klaxontype.WorkflowInfo, policy *Policy) (*Set, error) {
	registered, err := Rules(workflows)
	if err != nil {
		return nil, err
	}
	set := &Set{rules: make(map[string]*Rule, len(registered)), others: policy.For(AllWorkflows)}
	for name, rule := range registered {
		set.rules[name] = Merge(rule, policy.For(name))
	}
	for _, name := range policy.Workflows() {
		if _, ok := set.rules[name]; !ok && name != AllWorkflows {
			set.rules[name] = policy.For(name)
		}
	}
	return set, nil
}

// For returns workflow's rule in force; nil when nothing is masked there.
func (s *Set) For(workflow string) *Rule {
	if s == nil {
		return nil
	}
	if rule, ok := s.rules[workflow]; ok {
		return rule
	}
	return s.others
}

// Empty reports whether no workflow has a rule.
func (s *Set) Empty() bool { return s == nil || (len(s.rules) == 0 && s.others.Empty()) }
