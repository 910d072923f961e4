package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

const (
	// defaultCoolDown is how long a tripped breaker stays open when the
	// policy does not say.
	defaultCoolDown = 5 * time.Minute
	// spendWindow is the window of a spend-rate limit, which is per hour.
	spendWindow = time.Hour
)

// breakerWatch keeps, per workflow, the recent attempt outcomes and spend this
// worker saw, to trip the workflow's breaker on a retry storm or a spend rate
// past its limit.
type breakerWatch struct {
	mu       sync.Mutex
	outcomes map[string][]outcomeMark
	spend    map[string][]spendMark
}

type outcomeMark struct {
	at     time.Time
	failed bool
}

type spendMark struct {
	at  time.Time
	usd float64
}

func newBreakerWatch() *breakerWatch {
	return &breakerWatch{outcomes: make(map[string][]outcomeMark), spend: make(map[string][]spendMark)}
}

// observe notes how an attempt ended and what it spent, and says why the
// workflow's breaker must trip, if it must, and the class whose channel is
// told: transient for a retry storm, budget_exceeded for a spend rate.
func (b *breakerWatch) observe(workflow *Definition, failed bool, spent klaxontype.Spend, now time.Time) (reason string, class klaxontype.FailureClass, until time.Time) {
	policy, limit := workflow.Breaker, workflow.SpendRateLimit
	if !policy.Enabled() && limit <= 0 {
		return "", "", time.Time{}
	}
	coolDown := policy.CoolDown
	if coolDown <= 0 {
		coolDown = defaultCoolDown
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if policy.Enabled() {
		marks := append(pruneOutcomes(b.outcomes[workflow.Name], now.Add(-policy.Window)), outcomeMark{at: now, failed: failed})
		b.outcomes[workflow.Name] = marks
		failures := 0
		for _, m := range marks {
			if m.failed {
				failures++
			}
		}
		if len(marks) >= policy.MinAttempts && float64(failures) >= policy.FailureRate*float64(len(marks)) {
			reason = fmt.Sprintf("retry storm: %d of the last %d attempts failed within %s (threshold %.0f%%)",
				failures, len(marks), policy.Window, policy.FailureRate*100)
			class = klaxontype.ClassTransient
		}
	}
	if limit > 0 && reason == "" {
		switch {
		case spent.Cost.Unknown:
			class = klaxontype.ClassBudgetExceeded
			reason = fmt.Sprintf("spend rate cannot be kept under $%.2f/h: an attempt's cost is unknown (a model without a price)", limit)
		case spent.Cost.USD > 0:
			marks := append(pruneSpend(b.spend[workflow.Name], now.Add(-spendWindow)), spendMark{at: now, usd: spent.Cost.USD})
			b.spend[workflow.Name] = marks
			total := 0.0
			for _, m := range marks {
				total += m.usd
			}
			if total > limit {
				class = klaxontype.ClassBudgetExceeded
				reason = fmt.Sprintf("spend rate: $%.4f in the last hour exceeds the limit of $%.2f/h", total, limit)
			}
		}
	}
	if reason == "" {
		return "", "", time.Time{}
	}
	// Start afresh, so a reset breaker is not tripped again by the same
	// history.
	delete(b.outcomes, workflow.Name)
	delete(b.spend, workflow.Name)
	return reason, class, now.Add(coolDown)
}

func pruneOutcomes(marks []outcomeMark, since time.Time) []outcomeMark {
	for len(marks) > 0 && marks[0].at.Before(since) {
		marks = marks[1:]
	}
	return marks
}

func pruneSpend(marks []spendMark, since time.Time) []spendMark {
	for len(marks) > 0 && marks[0].at.Before(since) {
		marks = marks[1:]
	}
	return marks
}

// watchBreaker feeds an ended attempt to the breaker watch and trips the
// breaker when it says so. Its runs then wait, unclaimed, until the cool-down
// ends or a person resets it.
func (a *attempt) watchBreaker(result klaxontype.AttemptResult) {
	var failed bool
	switch result {
	case klaxontype.AttemptCompleted:
	case klaxontype.AttemptRetrying, klaxontype.AttemptDead:
		failed = true
	default:
		return
	}
	spent := a.exec.attemptSpend()
	reason, class, until := a.worker.breakers.observe(a.workflow, failed, spent, time.Now())
	if reason == "" {
		return
	}
	opened, err := a.worker.config.Store.BreakerTrip(context.WithoutCancel(a.ctx), &store.BreakerTripParams{
		Workflow: a.workflow.Name, Reason: reason, Until: until, Actor: a.worker.config.ID, RunID: a.run.ID,
		Channels: []string{a.worker.route(class)},
	})
	if err != nil {
		a.worker.config.Logger.Error("tripping the breaker failed", "workflow", a.workflow.Name, "reason", reason, "error", err)
		return
	}
	if opened {
		a.worker.config.Logger.Warn("breaker open: the workflow's runs wait until it resets",
			"workflow", a.workflow.Name, "reason", reason, "until", until)
		if a.worker.config.OnBreaker != nil {
			a.worker.config.OnBreaker(a.workflow.Name, reason, until)
		}
	}
}
