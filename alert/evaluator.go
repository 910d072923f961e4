package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// DefaultInterval is how often klaxon server evaluates the rules.
const DefaultInterval = 30 * time.Second

// maxFiring bounds the firing alerts one evaluation reads.
const maxFiring = 10000

// Evaluator evaluates alert rules against a store and records each alert's
// episode there: it fires once, repeats while it fires, and resolves when its
// condition clears, each with its notifications in the store's outbox. Every
// change is a conditional write, so evaluators of several servers on one
// database neither double-fire nor double-notify; all its state is in the
// store, so a new evaluator on the same database carries on where the last
// one stopped.
type Evaluator struct {
	store     Storage
	config    *Config
	clock     func() time.Time
	logger    *slog.Logger
	baselines baselines
}

// NewEvaluator returns an evaluator of config's rules. clock is its time
// (time.Now when nil): tests drive it with a fake clock.
func NewEvaluator(st Storage, config *Config, clock func() time.Time, logger *slog.Logger) *Evaluator {
	if clock == nil {
		clock = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Evaluator{store: st, config: config, clock: clock, logger: logger}
}

// Outcome counts what one evaluation changed.
type Outcome struct {
	Fired    int
	Repeated int
	Resolved int
	// Firing is how many alerts fire after the evaluation.
	Firing int
}

// orphanAfter is how long a firing alert of a rule this evaluator does not
// run is left to whichever server runs it, before it is resolved as a rule
// no longer in effect.
const orphanAfter = 10 * time.Minute

// Evaluate evaluates every rule once, at the clock's time. A rule whose
// measurement fails is skipped (its alerts are left as they are) and its
// error is returned, joined with the others, after the other rules are done.
func (e *Evaluator) Evaluate(ctx context.Context) (*Outcome, error) {
	now := e.clock().UTC().Truncate(time.Microsecond)
	firing, err := e.store.AlertList(ctx, &store.AlertListParams{
		States: []klaxontype.AlertState{klaxontype.AlertFiring}, Limit: maxFiring,
	})
	if err != nil {
		return nil, fmt.Errorf("alerts: list firing alerts: %w", err)
	}
	open := map[string]map[alertKey]*klaxontype.Alert{}
	for _, a := range firing {
		if open[a.Rule] == nil {
			open[a.Rule] = map[alertKey]*klaxontype.Alert{}
		}
		open[a.Rule][alertKey{a.Workflow, a.Class}] = a
	}
	p := &pass{store: e.store, baselines: &e.baselines, now: now, dlqCounts: map[[2]time.Time][]*store.DLQCount{}, spends: map[spendKey]*spendTotal{}}
	outcome := &Outcome{}
	var errs []error
	for _, rule := range e.config.Rules {
		held, err := p.measure(ctx, rule)
		if err != nil {
			errs = append(errs, fmt.Errorf("alert rule %q: %w", rule.Name, err))
			delete(open, rule.Name)
			continue
		}
		if err := e.record(ctx, rule, held, open[rule.Name], now, outcome); err != nil {
			errs = append(errs, fmt.Errorf("alert rule %q: %w", rule.Name, err))
		}
		delete(open, rule.Name)
	}
	// Alerts of rules not in effect here resolve, without notifications
	// (their targets are not known here), once no evaluation has recorded
	// them for orphanAfter: until then another server sharing the database
	// may run the rule, and it keeps them.
	for name, alerts := range open {
		for _, a := range alerts {
			if now.Sub(a.EvaluatedAt) < orphanAfter {
				continue
			}
			_, resolved, err := e.store.AlertResolve(ctx, &store.AlertResolveParams{
				ID: a.ID, At: now, Summary: fmt.Sprintf("%s (resolved: rule %s is no longer in effect)", a.Summary, name),
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("alert %s: %w", a.ID, err))
			} else if resolved {
				outcome.Resolved++
			}
		}
	}
	return outcome, errors.Join(errs...)
}

// record fires, repeats, updates and resolves a rule's alerts after its
// measurement.
func (e *Evaluator) record(ctx context.Context, rule *Rule, held []*condition, open map[alertKey]*klaxontype.Alert, now time.Time, outcome *Outcome) error {
	channels := e.config.channels(rule)
	var errs []error
	seen := map[alertKey]bool{}
	for _, c := range held {
		key := c.key()
		seen[key] = true
		if c.runIDs == nil {
			c.runIDs = []string{}
		}
		existing := open[key]
		if existing == nil {
			alert, fired, err := e.store.AlertFire(ctx, &store.AlertFireParams{
				ID:   ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String(),
				Rule: rule.Name, Kind: rule.Kind, Workflow: c.workflow, Class: c.class, Severity: rule.Severity,
				Summary: c.summary, Value: c.value, Threshold: c.threshold, RunIDs: c.runIDs, At: now, Channels: channels,
			})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			outcome.Firing++
			if fired {
				outcome.Fired++
				e.logger.Info("alert firing", "rule", rule.Name, "alert", alert.ID, "summary", alert.Summary)
			}
			continue
		}
		outcome.Firing++
		notify := existing.LastNotifiedAt == nil || now.Sub(*existing.LastNotifiedAt) >= rule.Repeat
		_, updated, err := e.store.AlertUpdate(ctx, &store.AlertUpdateParams{
			ID: existing.ID, Summary: c.summary, Value: c.value, Threshold: c.threshold, RunIDs: c.runIDs,
			Notify: notify, ExpectNotifications: existing.Notifications, At: now, Channels: channels,
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if notify && updated {
			outcome.Repeated++
			e.logger.Info("alert still firing", "rule", rule.Name, "alert", existing.ID, "summary", c.summary)
		}
	}
	for key, a := range open {
		if seen[key] {
			continue
		}
		_, resolved, err := e.store.AlertResolve(ctx, &store.AlertResolveParams{
			ID: a.ID, At: now, Channels: channels,
			Summary: fmt.Sprintf("%s (resolved after %s)", a.Summary, duration(now.Sub(a.StartedAt).Round(time.Second))),
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if resolved {
			outcome.Resolved++
			e.logger.Info("alert resolved", "rule", rule.Name, "alert", a.ID)
		}
	}
	return errors.Join(errs...)
}

// Run evaluates the rules every interval until ctx ends, logging what fails.
func (e *Evaluator) Run(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		if _, err := e.Evaluate(ctx); err != nil && ctx.Err() == nil {
			e.logger.Error("alert evaluation", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
