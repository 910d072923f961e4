package klaxon

import (
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// TestCatchUpPolicies checks what a pass fires after a schedule every ten
// minutes was down for an hour: skip fires nothing missed, one fires the
// latest missed tick only, all fires every missed tick; and a tick less than
// the grace period late is fired whatever the policy.
func TestCatchUpPolicies(t *testing.T) {
	t.Parallel()
	parsed, err := parseSchedule("ten", "*/10 * * * *", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	missedNow := start.Add(55 * time.Minute)               // ticks 9:00 … 9:50 all missed
	onTimeNow := start.Add(50*time.Minute + 3*time.Second) // 9:50 on time, 9:00 … 9:40 missed
	ticks := func(minutes ...int) []time.Time {
		var list []time.Time
		for _, m := range minutes {
			list = append(list, start.Add(time.Duration(m)*time.Minute))
		}
		return list
	}
	for _, c := range []struct {
		policy  klaxontype.CatchUp
		now     time.Time
		fire    []time.Time
		skipped int
	}{
		{klaxontype.CatchUpSkip, missedNow, nil, 6},
		{klaxontype.CatchUpOne, missedNow, ticks(50), 5},
		{klaxontype.CatchUpAll, missedNow, ticks(0, 10, 20, 30, 40, 50), 0},
		{klaxontype.CatchUpSkip, onTimeNow, ticks(50), 5},
		{klaxontype.CatchUpOne, onTimeNow, ticks(50), 5},
		{klaxontype.CatchUpAll, onTimeNow, ticks(0, 10, 20, 30, 40, 50), 0},
	} {
		plan := planTicks(parsed, &klaxontype.Schedule{NextTick: start, CatchUp: c.policy}, c.now)
		if !slices.EqualFunc(plan.fire, c.fire, time.Time.Equal) || plan.skipped != c.skipped {
			t.Errorf("%s at %s: fire %v, %d skipped; want %v, %d", c.policy, c.now.Format("15:04:05"), plan.fire, plan.skipped, c.fire, c.skipped)
		}
		if want := start.Add(time.Hour); !plan.next.Equal(want) {
			t.Errorf("%s: next tick %v; want %v", c.policy, plan.next, want)
		}
	}
}

// TestCatchUpAllInBatches checks that catching up every missed tick of a
// long downtime goes MaxCatchUpTicks a pass, the next pass going on from
// where the last stopped.
func TestCatchUpAllInBatches(t *testing.T) {
	t.Parallel()
	parsed, err := parseSchedule("minutely", "* * * * *", "")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	plan := planTicks(parsed, &klaxontype.Schedule{NextTick: start, CatchUp: klaxontype.CatchUpAll}, start.Add(24*time.Hour))
	if len(plan.fire) != klaxontype.MaxCatchUpTicks || !plan.next.Equal(start.Add(klaxontype.MaxCatchUpTicks*time.Minute)) {
		t.Errorf("fired %d, next %v; want %d and %v", len(plan.fire), plan.next, klaxontype.MaxCatchUpTicks,
			start.Add(klaxontype.MaxCatchUpTicks*time.Minute))
	}
}

// TestScheduleInTimeZone checks that the expression is read in the
// schedule's zone, across a daylight saving change.
func TestScheduleInTimeZone(t *testing.T) {
	t.Parallel()
	parsed, err := parseSchedule("paris", "0 9 * * *", "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 9:00 in Paris is 8:00 UTC in winter, 7:00 UTC in summer (from 29 March 2026).
	if got := parsed.next(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("winter: %v; want 08:00 UTC", got)
	}
	if got := parsed.next(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 4, 2, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("summer: %v; want 07:00 UTC", got)
	}
}
