package klaxon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// defaultScheduleInterval is how often a client looks for due schedules.
const defaultScheduleInterval = time.Second

// maxTicksScanned bounds the ticks one pass walks through for a schedule
// down a long time (a per-second schedule down for weeks); past it the walk
// jumps to the grace period, the missed ticks beyond it skipped uncounted.
const maxTicksScanned = 1_000_000

// afterScheduleEnqueue, when set (by tests), is called between a tick's
// enqueue and the schedule's advance: the window a crash test kills a
// process in.
var afterScheduleEnqueue func(schedule string, tick time.Time, runID string)

// RunSchedules fires the store's due schedules every interval until ctx
// ends, and returns nil then. Start runs it for a started client; a process
// that only serves (klaxon server) runs it itself. Any number of processes
// may run it against one store: each tick is fired once (see
// store.Schedules).
func (c *Client) RunSchedules(ctx context.Context) error {
	interval := c.config.ScheduleInterval
	if interval <= 0 {
		interval = defaultScheduleInterval
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		if _, err := c.FireSchedules(ctx); err != nil && ctx.Err() == nil {
			c.logger().Warn("klaxon: fire schedules", slog.Any("err", err))
		}
		timer.Reset(interval)
	}
}

// FireSchedules fires, once, the ticks of every schedule now due, and
// returns how many runs it enqueued (runs another process enqueued first
// for the same tick are not counted). A schedule whose pass fails (the
// store unreachable) is left as it was, to be fired on the next pass.
func (c *Client) FireSchedules(ctx context.Context) (int, error) {
	now := time.Now()
	due, err := c.store.SchedulesDue(ctx, &store.SchedulesDueParams{Now: now})
	if err != nil {
		return 0, err
	}
	enqueued := 0
	var errs []error
	for _, schedule := range due {
		n, err := c.fireSchedule(ctx, schedule, now)
		enqueued += n
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %q: %w", schedule.Name, err))
		}
	}
	return enqueued, errors.Join(errs...)
}

// fireSchedule decides the due ticks of one schedule by its catch-up policy,
// enqueues a run for each tick it fires (idempotency key per schedule and
// tick), then records the decisions and moves the next tick, if no other
// process did first.
func (c *Client) fireSchedule(ctx context.Context, schedule *klaxontype.Schedule, now time.Time) (int, error) {
	parsed, err := parseSchedule(schedule.Name, schedule.Cron, schedule.TimeZone)
	if err != nil {
		// Saved schedules were parsed when saved; one refused now cannot be
		// fired, and says so on every pass.
		return 0, err
	}
	plan := planTicks(parsed, schedule, now)
	outcomes := make([]*klaxontype.ScheduleOutcome, 0, len(plan.fire)+1)
	if plan.skipped > 0 {
		outcomes = append(outcomes, &klaxontype.ScheduleOutcome{
			Tick: plan.lastSkipped, Decision: klaxontype.ScheduleSkipped,
			Reason: fmt.Sprintf("%d missed tick(s) from %s to %s skipped (catch-up %s)", plan.skipped,
				plan.firstSkipped.Format(time.RFC3339), plan.lastSkipped.Format(time.RFC3339), schedule.CatchUp),
		})
	}
	enqueued := 0
	for _, tick := range plan.fire {
		outcome := &klaxontype.ScheduleOutcome{Tick: tick, Decision: klaxontype.ScheduleStarted}
		result, err := c.EnqueueAs(ctx, "schedule:"+schedule.Name, schedule.Workflow, schedule.Input,
			WithIdempotencyKey(ScheduleIdempotencyKey(schedule.Name, tick)), WithEntity("schedule", schedule.Name))
		var unknown *UnknownWorkflowError
		var input *InputError
		switch {
		case err == nil:
			outcome.RunID = result.Run.ID
			if !result.Deduplicated {
				enqueued++
			}
		case errors.As(err, &unknown) || errors.As(err, &input) || errors.Is(err, klaxontype.ErrInvalid):
			// The workflow is gone or its input no longer fits: no retry
			// would do better, so the tick is recorded failed.
			outcome.Decision, outcome.Reason = klaxontype.ScheduleFailed, err.Error()
		default:
			return enqueued, err
		}
		if afterScheduleEnqueue != nil {
			afterScheduleEnqueue(schedule.Name, tick, outcome.RunID)
		}
		outcomes = append(outcomes, outcome)
	}
	_, err = c.store.ScheduleAdvance(ctx, &store.ScheduleAdvanceParams{
		Name: schedule.Name, From: schedule.NextTick, NextTick: plan.next, Outcomes: outcomes,
	})
	return enqueued, err
}

// ScheduleIdempotencyKey is the enqueue idempotency key of a schedule's run
// for a tick: two processes firing the same tick get the same run.
func ScheduleIdempotencyKey(schedule string, tick time.Time) string {
	return "schedule:" + schedule + ":" + tick.UTC().Format(time.RFC3339Nano)
}

// tickPlan is what a pass does with a schedule's due ticks.
type tickPlan struct {
	// fire are the ticks to enqueue a run for, oldest first.
	fire []time.Time
	// skipped missed ticks, from firstSkipped to lastSkipped.
	skipped                   int
	firstSkipped, lastSkipped time.Time
	// next is the schedule's next tick after the pass.
	next time.Time
}

// skip counts a missed tick as skipped.
func (p *tickPlan) skip(tick time.Time) {
	if p.skipped == 0 {
		p.firstSkipped = tick
	}
	p.skipped++
	p.lastSkipped = tick
}

// planTicks walks the ticks from the schedule's next tick up to now and
// sorts them: a tick less than ScheduleGrace late is on time and fired;
// older ones are missed and follow the catch-up policy. Under one, the
// latest missed tick is fired unless an on-time tick brings the work up to
// date anyway; under all, every missed tick, MaxCatchUpTicks a pass.
func planTicks(parsed cronSchedule, schedule *klaxontype.Schedule, now time.Time) tickPlan {
	plan := tickPlan{}
	boundary := now.Add(-klaxontype.ScheduleGrace)
	var latestMissed time.Time
	tick := schedule.NextTick
	for scanned := 0; !tick.After(now); scanned++ {
		late := tick.Before(boundary)
		switch {
		case !late || schedule.CatchUp == klaxontype.CatchUpAll:
			plan.fire = append(plan.fire, tick)
		case schedule.CatchUp == klaxontype.CatchUpOne:
			// Held back: fired if no later missed or on-time tick comes.
			if !latestMissed.IsZero() {
				plan.skip(latestMissed)
			}
			latestMissed = tick
		default:
			plan.skip(tick)
		}
		tick = parsed.next(tick)
		if schedule.CatchUp == klaxontype.CatchUpAll && len(plan.fire) == klaxontype.MaxCatchUpTicks {
			break
		}
		if scanned == maxTicksScanned && tick.Before(boundary) {
			tick = parsed.next(boundary)
		}
	}
	if !latestMissed.IsZero() {
		if len(plan.fire) == 0 {
			plan.fire = []time.Time{latestMissed}
		} else {
			plan.skip(latestMissed)
		}
	}
	plan.next = tick
	return plan
}

// logger is the client's logger, or one that discards.
func (c *Client) logger() *slog.Logger {
	if c.config.Logger != nil {
		return c.config.Logger
	}
	return slog.New(slog.DiscardHandler)
}
