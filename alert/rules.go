package alert

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Rule is one alert rule: what to watch (its kind and parameters), for which
// workflows, how urgent it is, how often to remind while it fires, and whom
// to notify. Parameters that do not apply to its kind are zero.
type Rule struct {
	// Name identifies the rule; an alert carries it.
	Name string
	Kind klaxontype.AlertKind
	// Workflow restricts the rule to one workflow; empty watches each
	// workflow separately.
	Workflow string
	// Class restricts the dead-letter rules (dlq_rate, dlq_spike) to one
	// failure class; empty watches each class separately.
	Class    klaxontype.FailureClass
	Severity klaxontype.AlertSeverity
	// Repeat is how long after its latest notification a firing alert is
	// announced again.
	Repeat time.Duration
	// Notify names the targets that receive the rule's notifications.
	Notify []string

	// Window is the recent span measured (dlq_rate, dlq_spike, spend_spike,
	// cost_per_run_spike, budget_exceeded).
	Window time.Duration
	// Baseline is the trailing span the window is compared with, ending
	// where the window starts (the spikes); for stuck_runs, the span whose
	// run durations give the usual duration.
	Baseline time.Duration
	// Threshold is the count that fires dlq_rate and budget_exceeded.
	Threshold float64
	// Factor is how many times the baseline fires a spike, and how many
	// times the usual duration makes a run stuck.
	Factor float64
	// MinCount is the fewest dead letters in the window that make a
	// dlq_spike.
	MinCount int
	// MinUSD is the least spend in the window that makes a spend_spike.
	MinUSD float64
	// MinRuns is the fewest finished runs in the window, and in the
	// baseline, that make a cost_per_run_spike.
	MinRuns int
	// MinAge is the shortest time a run must be unfinished to be stuck,
	// whatever the workflow's usual duration.
	MinAge time.Duration
	// Percentile of the baseline's run durations is the usual duration
	// (stuck_runs).
	Percentile int
	// After is how long runs wait unclaimed, with no worker seen on the
	// workflow, before no_live_worker fires.
	After time.Duration
}

// Format is the body a notification target receives.
type Format string

const (
	// FormatJSON posts the notification as JSON: event, sequence and the
	// alert, signed with the target's secret.
	FormatJSON Format = "json"
	// FormatSlack posts a Slack-compatible message: {"text", "blocks"}.
	FormatSlack Format = "slack"
)

// Target is a webhook that receives alert notifications.
type Target struct {
	Name   string
	URL    string
	Format Format
	// Secret signs JSON notifications (Klaxon-Signature, HMAC-SHA256);
	// empty sends them unsigned.
	Secret []byte
}

// Channel is the outbox channel of the target's notifications.
func (t *Target) Channel() string { return ChannelPrefix + t.Name }

// ChannelPrefix starts the outbox channel of every alert target, so that a
// client's dead-letter channels never take alert notifications.
const ChannelPrefix = "alert:"

// Config is the rules in effect and the targets they notify.
type Config struct {
	Rules   []*Rule
	Targets []*Target
}

// Rule returns the rule of a name, or nil.
func (c *Config) Rule(name string) *Rule {
	for _, r := range c.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Target returns the target of a name, or nil.
func (c *Config) Target(name string) *Target {
	for _, t := range c.Targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Channels are the outbox channels of every target.
func (c *Config) Channels() []string {
	channels := make([]string, len(c.Targets))
	for i, t := range c.Targets {
		channels[i] = t.Channel()
	}
	return channels
}

// ChannelPrefixNotify starts a name in a rule's notify that is an outbox
// channel rather than a target of the rules file: "channel:ops" sends the
// rule's notifications to channel ops, whose targets klaxon server's
// channels file gives (and whose deliverer, not the Notifier, posts them).
const ChannelPrefixNotify = "channel:"

// channels are the outbox channels of a rule's targets.
func (c *Config) channels(r *Rule) []string {
	var channels []string
	for _, name := range r.Notify {
		if channel, ok := strings.CutPrefix(name, ChannelPrefixNotify); ok {
			channels = append(channels, channel)
		} else if t := c.Target(name); t != nil {
			channels = append(channels, t.Channel())
		}
	}
	return channels
}

// NotifiedChannels lists the channels the rules notify by name
// ("channel:ops"), each once, for the command to check that its channels
// file delivers them.
func (c *Config) NotifiedChannels() []string {
	var channels []string
	for _, r := range c.Rules {
		for _, name := range r.Notify {
			if channel, ok := strings.CutPrefix(name, ChannelPrefixNotify); ok && !slices.Contains(channels, channel) {
				channels = append(channels, channel)
			}
		}
	}
	return channels
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

// Validate checks every rule and target, and that rules name known targets,
// returning an error that names the rule or target and the field.
func (c *Config) Validate() error {
	seen := map[string]bool{}
	for _, t := range c.Targets {
		if !namePattern.MatchString(t.Name) {
			return fmt.Errorf("target %q: name must be letters, digits, '.', '_' or '-'", t.Name)
		}
		if seen[t.Name] {
			return fmt.Errorf("target %q: defined twice", t.Name)
		}
		seen[t.Name] = true
		if err := checkURL(t.URL); err != nil {
			return fmt.Errorf("target %q: field \"url\": %w", t.Name, err)
		}
		if t.Format != FormatJSON && t.Format != FormatSlack {
			return fmt.Errorf("target %q: field \"format\": %q is not json or slack", t.Name, t.Format)
		}
	}
	clear(seen)
	for _, r := range c.Rules {
		if err := r.validate(); err != nil {
			return err
		}
		if seen[r.Name] {
			return fmt.Errorf("rule %q: defined twice", r.Name)
		}
		seen[r.Name] = true
		for _, name := range r.Notify {
			if channel, ok := strings.CutPrefix(name, ChannelPrefixNotify); ok {
				if channel == "" || strings.HasPrefix(channel, ChannelPrefix) {
					return fmt.Errorf("rule %q: field \"notify\": %q names no channel of a channels file", r.Name, name)
				}
				continue
			}
			if c.Target(name) == nil {
				return fmt.Errorf("rule %q: field \"notify\": no target named %q", r.Name, name)
			}
		}
	}
	return nil
}

// validate checks a rule's fields against its kind.
func (r *Rule) validate() error {
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("rule %q: field %q: %s", r.Name, field, fmt.Sprintf(format, args...))
	}
	if !namePattern.MatchString(r.Name) {
		return fmt.Errorf("rule %q: name must be letters, digits, '.', '_' or '-'", r.Name)
	}
	if _, ofRules := ruleFields[r.Kind]; !ofRules {
		return fail("kind", "%q is not one of %s", r.Kind, kindNames())
	}
	if !r.Severity.Valid() {
		return fail("severity", "%q is not warning or critical", r.Severity)
	}
	if r.Repeat < time.Minute {
		return fail("repeat", "%s is shorter than a minute", r.Repeat)
	}
	if r.Class != "" {
		if r.Kind != klaxontype.AlertDLQRate && r.Kind != klaxontype.AlertDLQSpike {
			return fail("class", "only dlq_rate and dlq_spike rules have a class")
		}
		if !slices.Contains(klaxontype.FailureClasses(), r.Class) {
			return fail("class", "%q is not a failure class", r.Class)
		}
	}
	switch r.Kind {
	case klaxontype.AlertDLQRate, klaxontype.AlertBudgetExceeded:
		if r.Threshold < 1 {
			return fail("threshold", "%v is below 1", r.Threshold)
		}
	case klaxontype.AlertDLQSpike, klaxontype.AlertSpendSpike, klaxontype.AlertCostPerRunSpike:
		if r.Baseline <= r.Window {
			return fail("baseline", "%s is not longer than the window %s", r.Baseline, r.Window)
		}
		if r.Factor <= 1 {
			return fail("factor", "%v is not above 1", r.Factor)
		}
	case klaxontype.AlertApprovalOverdue:
		if r.Threshold <= 0 || r.Threshold >= 1 {
			return fail("threshold", "%v is not a fraction of the timeout between 0 and 1", r.Threshold)
		}
	case klaxontype.AlertStuckRuns:
		if r.Factor < 1 {
			return fail("factor", "%v is below 1", r.Factor)
		}
		if r.Percentile < 1 || r.Percentile > 100 {
			return fail("percentile", "%d is not from 1 to 100", r.Percentile)
		}
	}
	switch {
	case r.Kind == klaxontype.AlertDLQSpike && r.MinCount < 1:
		return fail("min_count", "%d is below 1", r.MinCount)
	case r.Kind == klaxontype.AlertSpendSpike && r.MinUSD < 0:
		return fail("min_usd", "%v is negative", r.MinUSD)
	case r.Kind == klaxontype.AlertCostPerRunSpike && r.MinRuns < 1:
		return fail("min_runs", "%d is below 1", r.MinRuns)
	}
	return nil
}

func kindNames() string {
	names := make([]string, 0, len(klaxontype.AlertKinds()))
	for _, k := range klaxontype.AlertKinds() {
		if _, ofRules := ruleFields[k]; !ofRules {
			continue // raised by the server itself, not by a rule
		}
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// String describes the rule in one line, as klaxon server prints the rules in
// effect.
func (r *Rule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s of %s", r.Name, r.Kind, r.scope())
	switch r.Kind {
	case klaxontype.AlertDLQRate:
		fmt.Fprintf(&b, ", at least %v dead letters in %s", r.Threshold, duration(r.Window))
	case klaxontype.AlertDLQSpike:
		fmt.Fprintf(&b, ", %vx the trailing %s rate over %s, at least %d dead letters", r.Factor, duration(r.Baseline), duration(r.Window), r.MinCount)
	case klaxontype.AlertSpendSpike:
		fmt.Fprintf(&b, ", %vx the trailing %s spend rate over %s, at least $%v", r.Factor, duration(r.Baseline), duration(r.Window), r.MinUSD)
	case klaxontype.AlertCostPerRunSpike:
		fmt.Fprintf(&b, ", %vx the trailing %s cost per run over %s, at least %d runs", r.Factor, duration(r.Baseline), duration(r.Window), r.MinRuns)
	case klaxontype.AlertBudgetExceeded:
		fmt.Fprintf(&b, ", at least %v budget_exceeded dead letters in %s", r.Threshold, duration(r.Window))
	case klaxontype.AlertStuckRuns:
		fmt.Fprintf(&b, ", unfinished for %vx the p%d duration of the last %s, at least %s", r.Factor, r.Percentile, duration(r.Baseline), duration(r.MinAge))
	case klaxontype.AlertNoLiveWorker:
		fmt.Fprintf(&b, ", runs waiting and no worker seen for %s", duration(r.After))
	case klaxontype.AlertApprovalOverdue:
		fmt.Fprintf(&b, ", approval requests undecided after %.0f%% of their timeout", r.Threshold*100)
	}
	fmt.Fprintf(&b, "; %s, repeat every %s", r.Severity, duration(r.Repeat))
	if len(r.Notify) > 0 {
		fmt.Fprintf(&b, ", notify %s", strings.Join(r.Notify, ", "))
	} else {
		b.WriteString(", no notifications")
	}
	return b.String()
}

// scope names what the rule watches: a workflow or each one, and a class.
func (r *Rule) scope() string {
	scope := "each workflow"
	if r.Workflow != "" {
		scope = "workflow " + r.Workflow
	}
	if r.Kind == klaxontype.AlertDLQRate || r.Kind == klaxontype.AlertDLQSpike {
		if r.Class != "" {
			scope += ", class " + string(r.Class)
		} else {
			scope += " and class"
		}
	}
	return scope
}

// duration prints a duration without trailing zero units: 1h, 90m, 30s.
func duration(d time.Duration) string {
	text := d.String()
	if strings.HasSuffix(text, "m0s") {
		text = strings.TrimSuffix(text, "0s")
	}
	if strings.HasSuffix(text, "h0m") {
		text = strings.TrimSuffix(text, "0m")
	}
	return text
}
