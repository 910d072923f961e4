package alert

import (
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// DefaultRepeat is how often a firing alert is announced again unless its
// rule or file says otherwise.
const DefaultRepeat = time.Hour

// Defaults are the built-in rules, in effect when no rules file is given:
//
//   - dlq-spike: a workflow's dead letters of one class over the last hour
//     are at least 5 and at least 5 times the rate of the 23 hours before;
//   - budget-exceeded: a run of a workflow went dead over the last hour for
//     spending more than its token or cost budget;
//   - breaker-open: a workflow's breaker holds its runs (critical);
//   - spend-spike: a workflow's spend over the last hour is at least $1 and 3
//     times the rate of the 23 hours before;
//   - cost-per-run-spike: a workflow's average cost per run over the last
//     hour is twice that of the 23 hours before, over at least 10 runs in
//     each;
//   - stuck-runs: runs unfinished for 3 times their workflow's p95 duration
//     of the last day, and at least 15 minutes;
//   - no-live-worker: runs of a workflow wait to be claimed for 5 minutes and
//     no worker claimed, renewed or finished one of its runs in that time
//     (critical);
//   - approval-overdue: approval requests of a workflow have waited 80% of
//     their timeout without a decision.
//
// They notify nobody: their alerts are listed by klaxon alerts and the API.
func Defaults() []*Rule {
	return []*Rule{
		defaultsOf(&Rule{Name: "dlq-spike", Kind: klaxontype.AlertDLQSpike}),
		defaultsOf(&Rule{Name: "budget-exceeded", Kind: klaxontype.AlertBudgetExceeded}),
		defaultsOf(&Rule{Name: "breaker-open", Kind: klaxontype.AlertBreakerOpen}),
		defaultsOf(&Rule{Name: "spend-spike", Kind: klaxontype.AlertSpendSpike, MinUSD: defaultMinUSD}),
		defaultsOf(&Rule{Name: "cost-per-run-spike", Kind: klaxontype.AlertCostPerRunSpike}),
		defaultsOf(&Rule{Name: "stuck-runs", Kind: klaxontype.AlertStuckRuns}),
		defaultsOf(&Rule{Name: "no-live-worker", Kind: klaxontype.AlertNoLiveWorker}),
		defaultsOf(&Rule{Name: "approval-overdue", Kind: klaxontype.AlertApprovalOverdue}),
	}
}

// DefaultConfig is the built-in rules without targets.
func DefaultConfig() *Config { return &Config{Rules: Defaults()} }

// defaultsOf fills the parameters of a rule's kind that are zero with their
// defaults, and returns the rule.
func defaultsOf(r *Rule) *Rule {
	if r.Severity == "" {
		r.Severity = klaxontype.SeverityWarning
		if r.Kind == klaxontype.AlertBreakerOpen || r.Kind == klaxontype.AlertNoLiveWorker {
			r.Severity = klaxontype.SeverityCritical
		}
	}
	if r.Repeat == 0 {
		r.Repeat = DefaultRepeat
	}
	orDuration := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	orFloat := func(f *float64, def float64) {
		if *f == 0 {
			*f = def
		}
	}
	orInt := func(n *int, def int) {
		if *n == 0 {
			*n = def
		}
	}
	switch r.Kind {
	case klaxontype.AlertDLQRate, klaxontype.AlertBudgetExceeded:
		orDuration(&r.Window, time.Hour)
		orFloat(&r.Threshold, 1)
	case klaxontype.AlertDLQSpike:
		orDuration(&r.Window, time.Hour)
		orDuration(&r.Baseline, 24*time.Hour)
		orFloat(&r.Factor, 5)
		orInt(&r.MinCount, 5)
	case klaxontype.AlertSpendSpike:
		orDuration(&r.Window, time.Hour)
		orDuration(&r.Baseline, 24*time.Hour)
		orFloat(&r.Factor, 3)
		// MinUSD's default is applied when the file leaves it out: zero is a
		// choice a file can make.
	case klaxontype.AlertCostPerRunSpike:
		orDuration(&r.Window, time.Hour)
		orDuration(&r.Baseline, 24*time.Hour)
		orFloat(&r.Factor, 2)
		orInt(&r.MinRuns, 10)
	case klaxontype.AlertStuckRuns:
		orDuration(&r.Baseline, 24*time.Hour)
		orFloat(&r.Factor, 3)
		orDuration(&r.MinAge, 15*time.Minute)
		orInt(&r.Percentile, 95)
	case klaxontype.AlertNoLiveWorker:
		orDuration(&r.After, 5*time.Minute)
	case klaxontype.AlertApprovalOverdue:
		orFloat(&r.Threshold, 0.8)
	}
	return r
}

// defaultMinUSD is the least spend over the window that makes a spend spike,
// unless the rule says otherwise.
const defaultMinUSD = 1.0
