package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Schedules keeps the schedules and their decisions. The store knows
// nothing of cron: the caller computes each next tick (package klaxon reads
// the expression) and the store keeps it, so that every process of the
// database fires from the same persisted tick, never from its memory.
//
// A tick is fired exactly once across processes by two guards: the run's
// enqueue idempotency key is per (schedule, tick), so two processes firing
// the same tick get one run; and ScheduleAdvance moves the next tick only
// from the tick the caller read (compare and set), so only one of them
// records the decision and moves on.
type Schedules interface {
	// ScheduleSave creates a schedule, or with Replace updates an existing
	// one's definition (keeping whether it is paused and its history). A
	// name taken, without Replace, gives klaxontype.ErrScheduleExists and
	// changes nothing.
	ScheduleSave(ctx context.Context, params *ScheduleSaveParams) (*klaxontype.Schedule, error)
	// ScheduleGet returns one schedule with its latest Outcomes decisions,
	// or klaxontype.ErrNotFound.
	ScheduleGet(ctx context.Context, params *ScheduleGetParams) (*klaxontype.Schedule, error)
	// ScheduleList returns schedules by name, each with its latest decision.
	ScheduleList(ctx context.Context, params *ScheduleListParams) ([]*klaxontype.Schedule, error)
	// SchedulePause pauses or resumes a schedule. A resumed schedule goes on
	// from NextTick: the ticks while it was paused are not fired. An
	// unknown name gives klaxontype.ErrNotFound.
	SchedulePause(ctx context.Context, params *SchedulePauseParams) (*klaxontype.Schedule, error)
	// ScheduleDelete deletes a schedule and its decisions; the runs it
	// started stay. An unknown name gives klaxontype.ErrNotFound.
	ScheduleDelete(ctx context.Context, params *ScheduleDeleteParams) error
	// SchedulesDue returns the schedules not paused whose next tick is at or
	// before Now, the most overdue first.
	SchedulesDue(ctx context.Context, params *SchedulesDueParams) ([]*klaxontype.Schedule, error)
	// ScheduleAdvance records the decisions of a schedule's ticks from From
	// and moves its next tick to NextTick, only if its next tick is still
	// From; otherwise (another process advanced it, it was resumed or
	// deleted) it changes nothing and reports false. A schedule paused
	// since the caller read it is advanced: the runs the caller enqueued
	// exist, and their ticks are recorded.
	ScheduleAdvance(ctx context.Context, params *ScheduleAdvanceParams) (advanced bool, err error)
}

// Bounds of what a schedule keeps.
const (
	MaxScheduleNameLength = 200
	MaxCronLength         = 200
	// MaxScheduleInputBytes bounds a schedule's input, kept on the schedule
	// and copied to every run.
	MaxScheduleInputBytes = 64 << 10
	// ScheduleOutcomesKept is how many decisions a schedule keeps; older ones
	// are deleted as new ones are recorded.
	ScheduleOutcomesKept = 200
)

// ScheduleSaveParams is a schedule's definition. The caller has checked the
// cron expression and time zone and computed NextTick from them.
type ScheduleSaveParams struct {
	Name     string
	Workflow string
	Cron     string
	TimeZone string
	// Input is the runs' input as JSON; empty means null.
	Input   json.RawMessage
	CatchUp klaxontype.CatchUp
	// Source is "code" or "api".
	Source string
	// NextTick is the first tick after now. On Replace it is kept when the
	// cron expression and time zone did not change, so that a worker
	// restarting with the same declaration does not move the schedule.
	NextTick time.Time
	// Replace updates a schedule of the same name instead of refusing it.
	Replace bool
	// Actor, when set, is the person whose act the audit log records (a
	// schedule declared in code has none).
	Actor string
}

// Validate refuses a definition without a name, a workflow, an expression
// or a next tick, an unknown catch-up policy, text no store can keep, an
// input that is not JSON, or anything past its bound. Its error matches
// klaxontype.ErrInvalid.
func (p *ScheduleSaveParams) Validate() error {
	switch {
	case p.Name == "":
		return invalidf("a schedule needs a name")
	case p.Workflow == "":
		return invalidf("schedule %q needs a workflow", p.Name)
	case p.Cron == "":
		return invalidf("schedule %q needs a cron expression", p.Name)
	case p.NextTick.IsZero():
		return invalidf("schedule %q needs its next tick", p.Name)
	case !p.CatchUp.Valid():
		return invalidf("catch-up policy %q is not one of one, skip, all", p.CatchUp)
	case p.Source != "code" && p.Source != "api":
		return invalidf("schedule source %q is not code or api", p.Source)
	}
	if err := checkTexts("schedule name", p.Name, "schedule workflow", p.Workflow, "cron expression", p.Cron,
		"time zone", p.TimeZone); err != nil {
		return err
	}
	if utf8.RuneCountInString(p.Name) > MaxScheduleNameLength {
		return invalidf("a schedule name is at most %d characters", MaxScheduleNameLength)
	}
	if utf8.RuneCountInString(p.Cron) > MaxCronLength {
		return invalidf("a cron expression is at most %d characters", MaxCronLength)
	}
	if len(p.Input) > MaxScheduleInputBytes {
		return invalidf("a schedule's input is at most %d bytes, not %d", MaxScheduleInputBytes, len(p.Input))
	}
	if len(p.Input) > 0 && !json.Valid(p.Input) {
		return invalidf("schedule %q's input is not valid JSON", p.Name)
	}
	return nil
}

// StoredInput is the input to keep: the caller's, or null.
func (p *ScheduleSaveParams) StoredInput() []byte {
	if len(p.Input) == 0 {
		return []byte("null")
	}
	return p.Input
}

// ScheduleGetParams names a schedule.
type ScheduleGetParams struct {
	Name string
	// Outcomes is how many of its latest decisions to return; zero returns
	// none.
	Outcomes int
}

// Validate refuses an empty name or a negative count. Its error matches
// klaxontype.ErrInvalid.
func (p *ScheduleGetParams) Validate() error {
	if p.Name == "" {
		return invalidf("name a schedule")
	}
	if p.Outcomes < 0 || p.Outcomes > ScheduleOutcomesKept {
		return invalidf("a schedule keeps %d decisions: ask for 0 to %d", ScheduleOutcomesKept, ScheduleOutcomesKept)
	}
	return CheckText("schedule name", p.Name)
}

// ScheduleListParams bounds ScheduleList.
type ScheduleListParams struct {
	// Limit caps the number of schedules; zero means DefaultPageLimit.
	Limit int
	// Outcomes is how many of each schedule's latest decisions to return;
	// zero returns none.
	Outcomes int
}

// Validate refuses a negative limit. Its error matches klaxontype.ErrInvalid.
func (p *ScheduleListParams) Validate() error {
	if p.Outcomes < 0 || p.Outcomes > ScheduleOutcomesKept {
		return invalidf("a schedule keeps %d decisions: ask for 0 to %d", ScheduleOutcomesKept, ScheduleOutcomesKept)
	}
	if p.Limit < 0 {
		return invalidf("a schedule list needs a limit of zero or more")
	}
	return nil
}

// PageLimit is the most schedules the list returns.
func (p *ScheduleListParams) PageLimit() int {
	if p.Limit == 0 {
		return DefaultPageLimit
	}
	return p.Limit
}

// SchedulePauseParams pauses or resumes a schedule.
type SchedulePauseParams struct {
	Name   string
	Paused bool
	// Actor, when set, is the person whose act the audit log records.
	Actor string
	// NextTick is, on resume, the first tick after now; ignored on pause.
	NextTick time.Time
}

// Validate refuses an empty name, or a resume without its next tick. Its
// error matches klaxontype.ErrInvalid.
func (p *SchedulePauseParams) Validate() error {
	if p.Name == "" {
		return invalidf("name a schedule")
	}
	if !p.Paused && p.NextTick.IsZero() {
		return invalidf("resuming schedule %q needs its next tick", p.Name)
	}
	return CheckText("schedule name", p.Name)
}

// ScheduleDeleteParams names the schedule to delete.
type ScheduleDeleteParams struct {
	Name string
	// Actor, when set, is the person whose act the audit log records.
	Actor string
}

// Validate refuses an empty name. Its error matches klaxontype.ErrInvalid.
func (p *ScheduleDeleteParams) Validate() error {
	if p.Name == "" {
		return invalidf("name a schedule")
	}
	return CheckText("schedule name", p.Name)
}

// SchedulesDueParams asks for the schedules to fire.
type SchedulesDueParams struct {
	Now time.Time
	// Limit caps the number of schedules; zero means DefaultPageLimit.
	Limit int
}

// Validate refuses a zero time or a negative limit. Its error matches
// klaxontype.ErrInvalid.
func (p *SchedulesDueParams) Validate() error {
	if p.Now.IsZero() || p.Limit < 0 {
		return invalidf("due schedules need a time and a limit of zero or more")
	}
	return nil
}

// PageLimit is the most schedules returned.
func (p *SchedulesDueParams) PageLimit() int {
	if p.Limit == 0 {
		return DefaultPageLimit
	}
	return p.Limit
}

// ScheduleAdvanceParams records what a process decided for a schedule's due
// ticks, and its next tick.
type ScheduleAdvanceParams struct {
	Name string
	// From is the next tick the caller read: the advance happens only if
	// the schedule's next tick is still From.
	From time.Time
	// NextTick is the tick after the last one decided.
	NextTick time.Time
	// Outcomes are the decisions, one per tick from From up to before
	// NextTick that the caller decided; their RunStatus is ignored.
	Outcomes []*klaxontype.ScheduleOutcome
}

// Validate refuses an advance without a name, with a next tick not after
// From, or with a decision of an unknown kind. Its error matches
// klaxontype.ErrInvalid.
func (p *ScheduleAdvanceParams) Validate() error {
	if p.Name == "" || p.From.IsZero() {
		return invalidf("a schedule advance needs the schedule and the tick it read")
	}
	if !p.NextTick.After(p.From) {
		return invalidf("schedule %q: next tick %s is not after %s", p.Name, p.NextTick, p.From)
	}
	for _, outcome := range p.Outcomes {
		switch outcome.Decision {
		case klaxontype.ScheduleStarted, klaxontype.ScheduleSkipped, klaxontype.ScheduleFailed:
		default:
			return invalidf("schedule %q: %q is not a decision", p.Name, outcome.Decision)
		}
	}
	return nil
}

// LastTick is the latest tick the advance decides, or From when it decides
// none.
func (p *ScheduleAdvanceParams) LastTick() time.Time {
	last := p.From
	for _, outcome := range p.Outcomes {
		if outcome.Tick.After(last) {
			last = outcome.Tick
		}
	}
	return last
}

// ScheduleNotFound is the error of an unknown schedule.
func ScheduleNotFound(name string) error {
	return fmt.Errorf("schedule %q: %w", name, klaxontype.ErrNotFound)
}

// ScheduleExists is the error of a name another schedule has.
func ScheduleExists(name string) error {
	return fmt.Errorf("schedule %q: %w", name, klaxontype.ErrScheduleExists)
}

// AuditRecord is the audit log's record of a schedule created by a person;
// nil when no person did (a declaration in code).
func (p *ScheduleSaveParams) AuditRecord(at time.Time) *klaxontype.AuditRecord {
	if p.Actor == "" {
		return nil
	}
	params, _ := json.Marshal(map[string]any{
		"workflow": p.Workflow, "cron": p.Cron, "time_zone": p.TimeZone, "catch_up": p.CatchUp, "replace": p.Replace,
	})
	return &klaxontype.AuditRecord{At: at, Actor: p.Actor, Action: klaxontype.AuditScheduleCreate, Target: p.Name,
		Params: params, Result: fmt.Sprintf("schedule %s of workflow %s: %s (%s)", p.Name, p.Workflow, p.Cron, p.TimeZone)}
}

// AuditRecord is the audit log's record of a schedule paused or resumed by
// a person; nil when no actor is named.
func (p *SchedulePauseParams) AuditRecord(at time.Time) *klaxontype.AuditRecord {
	if p.Actor == "" {
		return nil
	}
	action, result := klaxontype.AuditSchedulePause, "paused"
	if !p.Paused {
		action, result = klaxontype.AuditScheduleResume, "resumed; next tick "+p.NextTick.UTC().Format(time.RFC3339)
	}
	return &klaxontype.AuditRecord{At: at, Actor: p.Actor, Action: action, Target: p.Name, Params: json.RawMessage(`{}`), Result: result}
}

// AuditRecord is the audit log's record of a schedule deleted by a person;
// nil when no actor is named.
func (p *ScheduleDeleteParams) AuditRecord(at time.Time) *klaxontype.AuditRecord {
	if p.Actor == "" {
		return nil
	}
	return &klaxontype.AuditRecord{At: at, Actor: p.Actor, Action: klaxontype.AuditScheduleDelete, Target: p.Name,
		Params: json.RawMessage(`{}`), Result: "deleted with its decisions"}
}
