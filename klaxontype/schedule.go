package klaxontype

import (
	"encoding/json"
	"errors"
	"time"
)

// ErrScheduleExists is a schedule created under a name another schedule
// already has.
var ErrScheduleExists = errors.New("a schedule of that name exists")

// CatchUp says what a schedule does with the ticks it missed while no
// process fired it (every worker and server down, or the schedule's
// workflow refused): a tick is missed once it is more than ScheduleGrace
// late. Ticks less late are fired whatever the policy.
type CatchUp string

const (
	// CatchUpOne fires the latest missed tick and records the others as
	// skipped: one run to bring the work up to date, not one per missed
	// tick, since every run may cost model calls. The default.
	CatchUpOne CatchUp = "one"
	// CatchUpSkip fires none of the missed ticks and records them as
	// skipped; the schedule goes on from the next tick.
	CatchUpSkip CatchUp = "skip"
	// CatchUpAll fires every missed tick, oldest first, at most
	// MaxCatchUpTicks of them at a time.
	CatchUpAll CatchUp = "all"
)

// ScheduleGrace is how late a tick may be fired and still count as on time,
// not missed: a process waking up a little late (a busy machine, a pause
// between two polls) fires it whatever the catch-up policy.
const ScheduleGrace = 10 * time.Second

// MaxCatchUpTicks bounds the ticks one pass over a schedule fires under
// CatchUpAll, so that a schedule down for a long time catches up in steps
// rather than in one enormous burst; the next pass goes on.
const MaxCatchUpTicks = 100

// CatchUps lists every catch-up policy.
func CatchUps() []CatchUp { return []CatchUp{CatchUpOne, CatchUpSkip, CatchUpAll} }

// Valid reports whether c is one of CatchUps.
func (c CatchUp) Valid() bool {
	for _, known := range CatchUps() {
		if c == known {
			return true
		}
	}
	return false
}

// Schedule is a cron expression that enqueues one run of a workflow per
// tick, exactly once across every process of the database. Its next tick is
// kept in the database, computed from the last tick fired, never from a
// process's memory.
type Schedule struct {
	// Name identifies the schedule.
	Name string `json:"name"`
	// Workflow is the workflow a tick enqueues a run of.
	Workflow string `json:"workflow"`
	// Cron is the cron expression: five fields (minute hour day-of-month
	// month day-of-week), six with a leading seconds field, or a descriptor
	// such as @hourly or @every 10m.
	Cron string `json:"cron"`
	// TimeZone is the IANA name of the zone the expression is read in, such
	// as Europe/Paris; UTC by default.
	TimeZone string `json:"time_zone"`
	// Input is the input of every run the schedule enqueues, as JSON.
	Input json.RawMessage `json:"input"`
	// CatchUp is what the schedule does with missed ticks.
	CatchUp CatchUp `json:"catch_up"`
	// Paused schedules fire nothing; their ticks while paused are neither
	// fired nor caught up on resume.
	Paused bool `json:"paused"`
	// NextTick is the next tick to fire.
	NextTick time.Time `json:"next_tick"`
	// LastTick is the latest tick fired or skipped; zero before the first.
	LastTick time.Time `json:"last_tick,omitzero"`
	// Source says who declared the schedule: "code" (klaxon.Schedule at a
	// worker's registration) or "api" (the HTTP API or the CLI).
	Source string `json:"source"`
	// CreatedAt and UpdatedAt are when the schedule was created and its
	// definition last changed.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Outcomes are the schedule's latest decisions, newest first, when asked
	// for (a schedule's page, klaxon schedules show).
	Outcomes []*ScheduleOutcome `json:"outcomes,omitzero"`
}

// ScheduleDecision is what a schedule did at a tick.
type ScheduleDecision string

const (
	// ScheduleStarted is a tick that enqueued its run.
	ScheduleStarted ScheduleDecision = "started"
	// ScheduleSkipped is a missed tick the catch-up policy did not fire.
	ScheduleSkipped ScheduleDecision = "skipped"
	// ScheduleFailed is a tick whose run could not be enqueued (its workflow
	// unknown to the database, its input refused); the reason says why. The
	// tick is not retried: the schedule goes on with its next tick.
	ScheduleFailed ScheduleDecision = "failed"
)

// ScheduleOutcome is one decision of a schedule, with the status of the run
// it started as the run is now.
type ScheduleOutcome struct {
	// Tick is the tick's time.
	Tick     time.Time        `json:"tick"`
	Decision ScheduleDecision `json:"decision"`
	// RunID is the run the tick started, for a started tick.
	RunID string `json:"run_id,omitempty"`
	// RunStatus is that run's status now; empty when the run was deleted
	// by retention.
	RunStatus RunStatus `json:"run_status,omitempty"`
	// Reason says why a tick was skipped or failed.
	Reason string `json:"reason,omitempty"`
	// DecidedAt is when the decision was recorded.
	DecidedAt time.Time `json:"decided_at"`
}
