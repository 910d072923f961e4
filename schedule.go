package klaxon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// ScheduleDefinition is what a schedule is made of: a workflow to enqueue, a
// cron expression read in a time zone, the runs' input and what to do with
// ticks missed while nothing fired the schedule.
type ScheduleDefinition struct {
	// Name identifies the schedule.
	Name string `json:"name"`
	// Workflow is the workflow each tick enqueues a run of.
	Workflow string `json:"workflow"`
	// Cron is a cron expression: five fields (minute hour day-of-month month
	// day-of-week), six with a leading seconds field, or a descriptor
	// (@hourly, @daily, @every 15m).
	Cron string `json:"cron"`
	// TimeZone is the IANA name of the zone the expression is read in
	// (Europe/Paris); empty means UTC.
	TimeZone string `json:"time_zone,omitempty"`
	// Input is every run's input, as JSON; empty means null.
	Input json.RawMessage `json:"input,omitempty"`
	// CatchUp is what happens to missed ticks; empty means
	// klaxontype.CatchUpOne.
	CatchUp klaxontype.CatchUp `json:"catch_up,omitempty"`
}

// ScheduleError is a schedule definition refused for its cron expression,
// time zone or catch-up policy. It matches klaxontype.ErrInvalid; nothing
// is saved.
type ScheduleError struct {
	// Schedule is the schedule's name.
	Schedule string
	// Field is what was refused: cron, time_zone or catch_up.
	Field string
	Err   error
}

func (e *ScheduleError) Error() string {
	return fmt.Sprintf("schedule %q: %s: %v", e.Schedule, e.Field, e.Err)
}

// Unwrap makes the error match klaxontype.ErrInvalid.
func (e *ScheduleError) Unwrap() []error { return []error{klaxontype.ErrInvalid, e.Err} }

// cronParser reads five fields, or six with seconds first, and the
// descriptors (@daily, @every 1h). Time zones come from their own field:
// a CRON_TZ= prefix is refused so that a schedule has one zone, shown.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// cronSchedule is a parsed expression in its zone.
type cronSchedule struct {
	spec     cron.Schedule
	location *time.Location
}

// next is the first tick strictly after t.
func (s cronSchedule) next(t time.Time) time.Time {
	return s.spec.Next(t.In(s.location)).UTC()
}

// parseSchedule checks a definition's expression and zone.
func parseSchedule(name, expression, zone string) (cronSchedule, error) {
	trimmed := strings.TrimSpace(expression)
	if strings.HasPrefix(trimmed, "CRON_TZ=") || strings.HasPrefix(trimmed, "TZ=") {
		return cronSchedule{}, &ScheduleError{Schedule: name, Field: "cron",
			Err: fmt.Errorf("%q names its time zone inside the expression: give the zone as the schedule's time zone instead", expression)}
	}
	if trimmed == "" {
		return cronSchedule{}, &ScheduleError{Schedule: name, Field: "cron", Err: errors.New("the cron expression is empty")}
	}
	spec, err := cronParser.Parse(trimmed)
	if err != nil {
		return cronSchedule{}, &ScheduleError{Schedule: name, Field: "cron", Err: fmt.Errorf("%q is not a cron expression: %w", expression, err)}
	}
	location := time.UTC
	if zone != "" {
		// time.LoadLocation also takes "Local" and paths; a schedule's zone
		// must be one every process reads the same way.
		if zone == "Local" || strings.HasPrefix(zone, "/") || strings.Contains(zone, "..") {
			return cronSchedule{}, &ScheduleError{Schedule: name, Field: "time_zone", Err: fmt.Errorf("%q is not an IANA time zone name", zone)}
		}
		if location, err = time.LoadLocation(zone); err != nil {
			return cronSchedule{}, &ScheduleError{Schedule: name, Field: "time_zone",
				Err: fmt.Errorf("%q is not an IANA time zone name (such as Europe/Paris or UTC)", zone)}
		}
	}
	if spec.Next(time.Now().In(location)).IsZero() {
		return cronSchedule{}, &ScheduleError{Schedule: name, Field: "cron", Err: fmt.Errorf("%q never fires", expression)}
	}
	return cronSchedule{spec: spec, location: location}, nil
}

// check refuses a definition with a bad name, expression, zone or policy,
// and returns its parsed expression.
func (d *ScheduleDefinition) check() (cronSchedule, error) {
	if strings.TrimSpace(d.Name) == "" {
		return cronSchedule{}, fmt.Errorf("%w: a schedule needs a name", klaxontype.ErrInvalid)
	}
	if d.CatchUp == "" {
		d.CatchUp = klaxontype.CatchUpOne
	}
	if !d.CatchUp.Valid() {
		return cronSchedule{}, &ScheduleError{Schedule: d.Name, Field: "catch_up",
			Err: fmt.Errorf("%q is not one of one, skip, all", d.CatchUp)}
	}
	if d.TimeZone == "" {
		d.TimeZone = "UTC"
	}
	return parseSchedule(d.Name, d.Cron, d.TimeZone)
}

// CreateSchedule saves a new schedule after checking its expression, time
// zone and catch-up policy, that its workflow is known (registered with this
// client or by some worker of the store) and that its input fits the
// workflow. Its first tick is the first after now. A name taken gives
// klaxontype.ErrScheduleExists; nothing is saved on any error.
// The audit log records the creation, by actor ("client" when empty).
func (c *Client) CreateSchedule(ctx context.Context, definition ScheduleDefinition, actor string) (*klaxontype.Schedule, error) {
	return c.saveSchedule(ctx, definition, "api", false, actorOr(actor))
}

// saveSchedule saves a definition; actor is empty for a declaration in code.
func (c *Client) saveSchedule(ctx context.Context, definition ScheduleDefinition, source string, replace bool, actor string) (*klaxontype.Schedule, error) {
	parsed, err := definition.check()
	if err != nil {
		return nil, err
	}
	if len(definition.Input) == 0 {
		definition.Input = json.RawMessage("null")
	}
	// A schedule declared in code was checked against its workflow, this
	// client's, by declaredSchedules (Start holds the client's lock).
	if source != "code" {
		if _, err := c.checkEnqueue(ctx, definition.Workflow, definition.Input); err != nil {
			return nil, err
		}
	}
	return c.store.ScheduleSave(ctx, &store.ScheduleSaveParams{
		Name: definition.Name, Workflow: definition.Workflow, Cron: definition.Cron, TimeZone: definition.TimeZone,
		Input: definition.Input, CatchUp: definition.CatchUp, Source: source, Replace: replace,
		NextTick: parsed.next(time.Now()), Actor: actor,
	})
}

// GetSchedule returns a schedule with its latest outcomes decisions, newest
// first, or an error matching klaxontype.ErrNotFound.
func (c *Client) GetSchedule(ctx context.Context, name string, outcomes int) (*klaxontype.Schedule, error) {
	return c.store.ScheduleGet(ctx, &store.ScheduleGetParams{Name: name, Outcomes: outcomes})
}

// ListSchedules returns up to limit schedules (zero: the default page) by
// name, each with its latest decision.
func (c *Client) ListSchedules(ctx context.Context, limit int) ([]*klaxontype.Schedule, error) {
	return c.store.ScheduleList(ctx, &store.ScheduleListParams{Limit: limit, Outcomes: 1})
}

// PauseSchedule stops a schedule firing until ResumeSchedule; the audit log
// records it, by actor ("client" when empty).
func (c *Client) PauseSchedule(ctx context.Context, name, actor string) (*klaxontype.Schedule, error) {
	return c.store.SchedulePause(ctx, &store.SchedulePauseParams{Name: name, Paused: true, Actor: actorOr(actor)})
}

// ResumeSchedule makes a paused schedule fire again from its first tick
// after now: the ticks while it was paused are not caught up. The audit log
// records it, by actor ("client" when empty).
func (c *Client) ResumeSchedule(ctx context.Context, name, actor string) (*klaxontype.Schedule, error) {
	current, err := c.GetSchedule(ctx, name, 0)
	if err != nil {
		return nil, err
	}
	parsed, err := parseSchedule(current.Name, current.Cron, current.TimeZone)
	if err != nil {
		return nil, err
	}
	return c.store.SchedulePause(ctx, &store.SchedulePauseParams{Name: name, NextTick: parsed.next(time.Now()), Actor: actorOr(actor)})
}

// DeleteSchedule deletes a schedule and its recorded decisions; the runs it
// started stay. A schedule declared in code with Schedule is saved again
// when a worker declaring it starts. The audit log records it, by actor
// ("client" when empty).
func (c *Client) DeleteSchedule(ctx context.Context, name, actor string) error {
	return c.store.ScheduleDelete(ctx, &store.ScheduleDeleteParams{Name: name, Actor: actorOr(actor)})
}

// scheduleDeclaration is a schedule declared with a workflow in code.
type scheduleDeclaration struct {
	definition ScheduleDefinition
	// err is an input that could not be encoded, reported at Start.
	err error
}

// ScheduleOption sets a property of a schedule declared with Schedule.
type ScheduleOption func(*scheduleDeclaration)

// InTimeZone reads the schedule's expression in an IANA time zone
// (Europe/Paris); default UTC.
func InTimeZone(name string) ScheduleOption {
	return func(d *scheduleDeclaration) { d.definition.TimeZone = name }
}

// ScheduleInput is the input of every run the schedule enqueues, encoded as
// JSON; default null.
func ScheduleInput(input any) ScheduleOption {
	return func(d *scheduleDeclaration) {
		encoded, err := json.Marshal(input)
		if err != nil {
			d.err = fmt.Errorf("schedule %q: encode input: %w", d.definition.Name, err)
			return
		}
		d.definition.Input = encoded
	}
}

// WithCatchUp sets what the schedule does with ticks missed while nothing
// fired it; default klaxontype.CatchUpOne.
func WithCatchUp(policy klaxontype.CatchUp) ScheduleOption {
	return func(d *scheduleDeclaration) { d.definition.CatchUp = policy }
}

// Schedule declares a schedule of the workflow: a run of it per tick of the
// cron expression. The client saves it in the store when it starts (a
// worker restarting with the same expression keeps the schedule's next tick;
// one paused by a person stays paused), and every started client and server
// of the store fires it, each tick exactly once.
//
//	klaxon.NewWorkflow("recheck", recheck,
//		klaxon.Schedule("nightly-recheck", "0 3 * * *", klaxon.InTimeZone("Europe/Paris")))
func Schedule(name, expression string, opts ...ScheduleOption) WorkflowOption {
	return func(o *workflowOptions) {
		declaration := &scheduleDeclaration{definition: ScheduleDefinition{Name: name, Cron: expression}}
		for _, opt := range opts {
			opt(declaration)
		}
		o.schedules = append(o.schedules, declaration)
	}
}

// declaredSchedules checks every schedule declared with the registered
// workflows, before Start writes anything, and returns them.
func (c *Client) declaredSchedules() ([]ScheduleDefinition, error) {
	var declared []ScheduleDefinition
	names := map[string]bool{}
	for name, w := range c.workflows {
		for _, declaration := range w.scheduleDeclarations() {
			if declaration.err != nil {
				return nil, declaration.err
			}
			definition := declaration.definition
			definition.Workflow = name
			if _, err := definition.check(); err != nil {
				return nil, err
			}
			if len(definition.Input) > 0 {
				if err := w.checkInput(definition.Input); err != nil {
					return nil, fmt.Errorf("schedule %q: %w", definition.Name, err)
				}
			}
			if names[definition.Name] {
				return nil, fmt.Errorf("%w: schedule %q is declared twice", klaxontype.ErrInvalid, definition.Name)
			}
			names[definition.Name] = true
			declared = append(declared, definition)
		}
	}
	return declared, nil
}

// saveDeclaredSchedules saves the schedules declared in code, keeping the
// next tick and the pause of those saved before.
func (c *Client) saveDeclaredSchedules(ctx context.Context, declared []ScheduleDefinition) error {
	for _, definition := range declared {
		if _, err := c.saveSchedule(ctx, definition, "code", true, ""); err != nil {
			return fmt.Errorf("save schedule %q: %w", definition.Name, err)
		}
	}
	return nil
}
