package engine

import (
	"context"
	"fmt"
	"log/slog"
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
	// defaultBreakerCheckInterval is how often, at most, a worker reads a
	// workflow's store-wide tally when the config does not say.
	defaultBreakerCheckInterval = time.Second
	// breakerReadTimeout bounds a read of the tally: a store that does not
	// answer leaves the judgement to this worker's own view.
	breakerReadTimeout = 5 * time.Second
	// breakerReadSpacing spaces the reads of a busy workflow's tally, per
	// attempt the last read counted. A read takes time in proportion to the
	// attempts in the window (about half a microsecond each on SQLite on the
	// project's machine), so a workflow that ends thousands of attempts a
	// second is read less often than the interval says, keeping its reads
	// under about 5% of a core, rather than letting them take one: from
	// 100,000 attempts in the window on, a read waits more than a second.
	breakerReadSpacing = 10 * time.Microsecond
)

// breakerWatch judges, per workflow, whether its breaker must trip on a retry
// storm or a spend rate past its limit, across every worker of the store.
//
// The store's tally (store.BreakerTally) is the judge, read at most once per
// interval per workflow, and sooner (at most ten times per interval) when
// this worker's own recent attempts already say trip: a worker's share of a
// storm or of a bill is what it saw, but the storm or the bill is the sum over
// every worker. Between reads nothing is queried, so an attempt costs a few
// appends under a lock; a workflow with neither a breaker policy nor a spend
// limit costs nothing at all. A read costs time in proportion to the
// attempts in the window, so the reads of a busy workflow are spaced further
// (breakerReadSpacing).
//
// What this worker saw (its marks) is the fast pre-check and the fallback:
// spend only adds up, so its own share over the limit trips at once; its own
// retry storm only prompts an early read, since other workers' successes may
// say otherwise. When the read fails, the marks judge alone, as they did
// before the store kept a tally.
type breakerWatch struct {
	store    Storage
	interval time.Duration
	logger   *slog.Logger

	mu       sync.Mutex
	outcomes map[string][]outcomeMark
	spend    map[string][]spendMark
	reads    map[string]*tallyRead
}

type outcomeMark struct {
	at     time.Time
	failed bool
}

type spendMark struct {
	at  time.Time
	usd float64
}

// tallyRead is when a workflow's tally was last read and how many attempts
// it counted, and whether a read is under way (one at a time per workflow).
type tallyRead struct {
	at       time.Time
	attempts int
	busy     bool
}

// breakerVerdict is why a breaker must trip, and the class whose channel is
// told: transient for a retry storm, budget_exceeded for a spend rate.
type breakerVerdict struct {
	reason string
	class  klaxontype.FailureClass
	// certain is set when this worker's view alone proves the store-wide
	// verdict: spend over the limit, or a cost that is unknown.
	certain bool
	// spent is the spend this worker saw in the last hour.
	spent float64
}

func newBreakerWatch(st Storage, interval time.Duration, logger *slog.Logger) *breakerWatch {
	if interval <= 0 {
		interval = defaultBreakerCheckInterval
	}
	return &breakerWatch{
		store: st, interval: interval, logger: logger,
		outcomes: make(map[string][]outcomeMark), spend: make(map[string][]spendMark), reads: make(map[string]*tallyRead),
	}
}

// observe notes how an attempt ended and what it spent, and says why the
// workflow's breaker must trip, if it must, the class whose channel is told,
// and until when.
func (b *breakerWatch) observe(ctx context.Context, workflow *Definition, failed bool, spent klaxontype.Spend, now time.Time) (reason string, class klaxontype.FailureClass, until time.Time) {
	policy, limit := workflow.Breaker, workflow.SpendRateLimit
	if !policy.Enabled() && limit <= 0 {
		return "", "", time.Time{}
	}
	b.mu.Lock()
	local := b.judgeLocal(workflow, failed, spent, now)
	read := b.readDue(workflow.Name, now, local)
	b.mu.Unlock()

	verdict := breakerVerdict{}
	switch {
	case read:
		verdict = b.judgeStore(ctx, workflow, now, local)
	case local.certain:
		verdict = local
	}
	if verdict.reason == "" {
		return "", "", time.Time{}
	}
	// Start afresh, so a reset breaker is not tripped again by the same
	// history; the store's tally starts afresh from the trip by itself.
	b.mu.Lock()
	delete(b.outcomes, workflow.Name)
	delete(b.spend, workflow.Name)
	b.mu.Unlock()
	coolDown := policy.CoolDown
	if coolDown <= 0 {
		coolDown = defaultCoolDown
	}
	return verdict.reason, verdict.class, now.Add(coolDown)
}

// judgeLocal adds the attempt to this worker's marks and judges them; b.mu is
// held.
func (b *breakerWatch) judgeLocal(workflow *Definition, failed bool, spent klaxontype.Spend, now time.Time) breakerVerdict {
	policy, limit := workflow.Breaker, workflow.SpendRateLimit
	verdict := breakerVerdict{}
	if policy.Enabled() {
		marks := append(pruneOutcomes(b.outcomes[workflow.Name], now.Add(-policy.Window)), outcomeMark{at: now, failed: failed})
		b.outcomes[workflow.Name] = marks
		failures := 0
		for _, m := range marks {
			if m.failed {
				failures++
			}
		}
		if stormy(policy, failures, len(marks)) {
			verdict.reason = fmt.Sprintf("retry storm: %d of the last %d attempts failed within %s (threshold %.0f%%)",
				failures, len(marks), policy.Window, policy.FailureRate*100)
			verdict.class = klaxontype.ClassTransient
		}
	}
	if limit <= 0 {
		return verdict
	}
	marks := pruneSpend(b.spend[workflow.Name], now.Add(-spendWindow))
	if spent.Cost.USD > 0 {
		marks = append(marks, spendMark{at: now, usd: spent.Cost.USD})
	}
	b.spend[workflow.Name] = marks
	for _, m := range marks {
		verdict.spent += m.usd
	}
	switch {
	case verdict.reason != "":
	case spent.Cost.Unknown:
		verdict.reason, verdict.class, verdict.certain = unknownCostReason(limit), klaxontype.ClassBudgetExceeded, true
	case verdict.spent > limit:
		verdict.reason = fmt.Sprintf("spend rate: $%.4f in the last hour exceeds the limit of $%.2f/h", verdict.spent, limit)
		verdict.class, verdict.certain = klaxontype.ClassBudgetExceeded, true
	}
	return verdict
}

// readDue says whether to read the workflow's tally now, and marks the read
// under way; b.mu is held. A retry storm this worker saw alone shortens the
// wait to a tenth of the interval; spend this worker alone saw over the limit
// trips the breaker, so the tally is read at once to name the store-wide
// figures.
func (b *breakerWatch) readDue(workflow string, now time.Time, local breakerVerdict) bool {
	r := b.reads[workflow]
	if r == nil {
		r = &tallyRead{}
		b.reads[workflow] = r
	}
	wait := b.interval
	switch {
	case local.certain:
		wait = 0
	case local.reason != "":
		wait = max(wait/10, time.Duration(r.attempts)*breakerReadSpacing)
	default:
		wait = max(wait, time.Duration(r.attempts)*breakerReadSpacing)
	}
	if r.busy || now.Sub(r.at) < wait {
		return false
	}
	r.at, r.busy = now, true
	return true
}

// judgeStore reads the workflow's store-wide tally and judges it. When the
// read fails it judges by this worker's view, and says so in the log.
func (b *breakerWatch) judgeStore(ctx context.Context, workflow *Definition, now time.Time, local breakerVerdict) breakerVerdict {
	policy, limit := workflow.Breaker, workflow.SpendRateLimit
	params := &store.BreakerTallyParams{Workflow: workflow.Name}
	if policy.Enabled() {
		params.AttemptsSince = now.Add(-policy.Window)
	}
	if limit > 0 {
		params.SpendSince = now.Add(-spendWindow)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), breakerReadTimeout)
	tally, err := b.store.BreakerTally(ctx, params)
	cancel()
	b.mu.Lock()
	r := b.reads[workflow.Name]
	r.busy = false
	if err == nil {
		r.attempts = tally.Attempts
	}
	b.mu.Unlock()
	if err != nil {
		b.logger.Warn("reading the workflow's attempts and spend across workers failed; its breaker judges by this worker's attempts alone until the next read",
			"workflow", workflow.Name, "error", err)
		return local
	}
	if policy.Enabled() && stormy(policy, tally.Failed, tally.Attempts) {
		return breakerVerdict{
			reason: fmt.Sprintf("retry storm: %d of the last %d attempts failed within %s across all workers (threshold %.0f%%)",
				tally.Failed, tally.Attempts, policy.Window, policy.FailureRate*100),
			class: klaxontype.ClassTransient,
		}
	}
	if limit <= 0 {
		return breakerVerdict{}
	}
	switch {
	case tally.Cost.Unknown:
		return breakerVerdict{reason: unknownCostReason(limit) + " (across all workers)", class: klaxontype.ClassBudgetExceeded}
	case tally.Cost.USD > limit:
		return breakerVerdict{
			reason: fmt.Sprintf("spend rate: $%.4f in the last hour across all workers exceeds the limit of $%.2f/h", tally.Cost.USD, limit),
			class:  klaxontype.ClassBudgetExceeded,
		}
	case local.certain:
		// This worker's own share is over the limit, or of unknown cost, and
		// the store does not hold all of it (what a failed step spent inside
		// an attempt that then completed is in the run's totals only).
		return local
	}
	return breakerVerdict{}
}

// stormy reports whether failures of attempts make a retry storm by the
// policy.
func stormy(policy klaxontype.BreakerPolicy, failures, attempts int) bool {
	return attempts > 0 && attempts >= policy.MinAttempts && float64(failures) >= policy.FailureRate*float64(attempts)
}

func unknownCostReason(limit float64) string {
	return fmt.Sprintf("spend rate cannot be kept under $%.2f/h: an attempt's cost is unknown (a model without a price)", limit)
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
	reason, class, until := a.worker.breakers.observe(a.ctx, a.workflow, failed, spent, time.Now())
	if reason == "" {
		return
	}
	opened, err := a.worker.config.Store.BreakerTrip(context.WithoutCancel(a.ctx), &store.BreakerTripParams{
		Workflow: a.workflow.Name, Reason: reason, Until: until, Actor: a.holder, RunID: a.run.ID,
		Channels: []string{a.worker.route(class)},
	})
	if err != nil {
		a.worker.config.Logger.Error("tripping the breaker failed", "workflow", a.workflow.Name, "reason", reason, "error", err)
		return
	}
	if opened {
		a.worker.config.Logger.Warn("breaker open: the workflow's runs wait until it resets",
			"workflow", a.workflow.Name, "reason", reason, "until", until)
		if onBreaker := a.worker.config.OnBreaker; onBreaker != nil {
			callHook(a.worker.config.Logger, "OnBreaker", func() { onBreaker(a.workflow.Name, reason, until) })
		}
	}
}
