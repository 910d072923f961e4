package http

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// ScheduleList is schedules by name, each with its latest decision.
type ScheduleList struct {
	Schedules []*klaxontype.Schedule `json:"schedules"`
}

// DefaultScheduleOutcomes is how many of a schedule's latest decisions its
// page shows unless asked otherwise.
const DefaultScheduleOutcomes = 20

type listSchedulesInput struct {
	Limit int `query:"limit" minimum:"0" maximum:"1000" doc:"Most schedules to list (default 100)"`
}

type listSchedulesOutput struct {
	Body ScheduleList
}

type scheduleNameInput struct {
	Name string `path:"name" minLength:"1" maxLength:"200" doc:"Schedule name"`
}

type getScheduleInput struct {
	Name     string `path:"name" minLength:"1" maxLength:"200" doc:"Schedule name"`
	Outcomes int    `query:"outcomes" minimum:"0" maximum:"200" default:"20" doc:"How many of the schedule's latest decisions to return"`
}

type createScheduleInput struct {
	Body *klaxon.ScheduleDefinition
}

type scheduleOutput struct {
	Body *klaxontype.Schedule
}

type deleteScheduleOutput struct{}

// registerSchedules serves the schedules: read to list and show them,
// operate to create, pause, resume and delete them.
func (s *Server) registerSchedules() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-schedules", Method: http.MethodGet, Path: APIPrefix + "/schedules",
		Summary: "Schedules, by name, each with its latest decision", Tags: []string{"schedules"},
		Description: "Each schedule's workflow, cron expression and time zone, catch-up policy, whether it is paused, " +
			"its next and last ticks, and its latest decision (started with the run's status now, skipped, failed).",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *listSchedulesInput) (*listSchedulesOutput, error) {
		schedules, err := s.client.ListSchedules(ctx, input.Limit)
		if err != nil {
			return nil, err
		}
		mask, err := s.maskFor(ctx)
		if err != nil {
			return nil, err
		}
		for _, schedule := range schedules {
			mask.schedule(schedule)
		}
		return &listSchedulesOutput{Body: ScheduleList{Schedules: orEmpty(schedules)}}, nil
	})
	register(s, ScopeRead, huma.Operation{
		OperationID: "get-schedule", Method: http.MethodGet, Path: APIPrefix + "/schedules/{name}",
		Summary: "A schedule and its latest decisions", Tags: []string{"schedules"},
		Description: "The schedule with its latest decisions, newest first: each tick started (with its run and the run's " +
			"status now), skipped by the catch-up policy, or failed (the reason says why). A schedule whose runs keep " +
			"dying shows it here.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *getScheduleInput) (*scheduleOutput, error) {
		schedule, err := s.client.GetSchedule(ctx, input.Name, input.Outcomes)
		if err != nil {
			return nil, err
		}
		return s.maskedSchedule(ctx, schedule)
	})
	register(s, ScopeOperate, huma.Operation{
		OperationID: "create-schedule", Method: http.MethodPost, Path: APIPrefix + "/schedules",
		Summary: "Create a schedule", Tags: []string{"schedules"}, DefaultStatus: http.StatusCreated,
		Description: "A schedule enqueues one run of its workflow per tick of its cron expression (five fields, six with " +
			"seconds first, or a descriptor such as @hourly), read in its IANA time zone (default UTC), exactly once " +
			"across every worker and server of the database. catch_up says what happens to ticks missed while nothing " +
			"fired it: one (default: the latest only), skip, or all. An invalid expression, zone or policy, or an input " +
			"the workflow refuses, is 422; an unknown workflow 404; a name taken 409. Nothing is saved on any error.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *createScheduleInput) (*scheduleOutput, error) {
		if input.Body == nil {
			return nil, invalid("a schedule needs a body: name, workflow, cron")
		}
		if err := s.refuseMarker(ctx, input.Body.Workflow, "input", input.Body.Input); err != nil {
			return nil, err
		}
		schedule, err := s.client.CreateSchedule(ctx, *input.Body, actor(ctx))
		if err != nil {
			return nil, err
		}
		return s.maskedSchedule(ctx, schedule)
	})
	register(s, ScopeOperate, huma.Operation{
		OperationID: "pause-schedule", Method: http.MethodPost, Path: APIPrefix + "/schedules/{name}/pause",
		Summary: "Pause a schedule", Tags: []string{"schedules"},
		Description: "A paused schedule fires nothing until resumed. Pausing a paused schedule changes nothing.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, input *scheduleNameInput) (*scheduleOutput, error) {
		schedule, err := s.client.PauseSchedule(ctx, input.Name, actor(ctx))
		if err != nil {
			return nil, err
		}
		return s.maskedSchedule(ctx, schedule)
	})
	register(s, ScopeOperate, huma.Operation{
		OperationID: "resume-schedule", Method: http.MethodPost, Path: APIPrefix + "/schedules/{name}/resume",
		Summary: "Resume a paused schedule", Tags: []string{"schedules"},
		Description: "The schedule fires again from its first tick after now: the ticks while it was paused are not " +
			"caught up. Resuming a running schedule changes nothing.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, input *scheduleNameInput) (*scheduleOutput, error) {
		schedule, err := s.client.ResumeSchedule(ctx, input.Name, actor(ctx))
		if err != nil {
			return nil, err
		}
		return s.maskedSchedule(ctx, schedule)
	})
	register(s, ScopeOperate, huma.Operation{
		OperationID: "delete-schedule", Method: http.MethodDelete, Path: APIPrefix + "/schedules/{name}",
		Summary: "Delete a schedule", Tags: []string{"schedules"}, DefaultStatus: http.StatusNoContent,
		Description: "The schedule and its recorded decisions are deleted; the runs it started stay. A schedule " +
			"declared in Go code with klaxon.Schedule is saved again when a worker declaring it starts.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, input *scheduleNameInput) (*deleteScheduleOutput, error) {
		if err := s.client.DeleteSchedule(ctx, input.Name, actor(ctx)); err != nil {
			return nil, err
		}
		return &deleteScheduleOutput{}, nil
	})
}

// Schedules lists schedules by name, at most limit of them (zero: the
// server's default), each with its latest decision (scope read).
func (c *Client) Schedules(ctx context.Context, limit int) ([]*klaxontype.Schedule, error) {
	values := url.Values{}
	if limit != 0 {
		values.Set("limit", strconv.Itoa(limit))
	}
	var list ScheduleList
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/schedules", values, nil, &list); err != nil {
		return nil, err
	}
	return list.Schedules, nil
}

// Schedule returns a schedule with its latest outcomes decisions (scope
// read).
func (c *Client) Schedule(ctx context.Context, name string, outcomes int) (*klaxontype.Schedule, error) {
	var schedule klaxontype.Schedule
	values := url.Values{"outcomes": {strconv.Itoa(outcomes)}}
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/schedules/"+url.PathEscape(name), values, nil, &schedule); err != nil {
		return nil, err
	}
	return &schedule, nil
}

// CreateSchedule creates a schedule (scope operate).
func (c *Client) CreateSchedule(ctx context.Context, definition klaxon.ScheduleDefinition) (*klaxontype.Schedule, error) {
	var schedule klaxontype.Schedule
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/schedules", nil, &definition, &schedule); err != nil {
		return nil, err
	}
	return &schedule, nil
}

// PauseSchedule pauses a schedule (scope operate).
func (c *Client) PauseSchedule(ctx context.Context, name string) (*klaxontype.Schedule, error) {
	return c.scheduleAction(ctx, name, "pause")
}

// ResumeSchedule resumes a paused schedule from its next tick after now
// (scope operate).
func (c *Client) ResumeSchedule(ctx context.Context, name string) (*klaxontype.Schedule, error) {
	return c.scheduleAction(ctx, name, "resume")
}

func (c *Client) scheduleAction(ctx context.Context, name, action string) (*klaxontype.Schedule, error) {
	var schedule klaxontype.Schedule
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/schedules/"+url.PathEscape(name)+"/"+action, nil, nil, &schedule); err != nil {
		return nil, err
	}
	return &schedule, nil
}

// DeleteSchedule deletes a schedule and its decisions (scope operate).
func (c *Client) DeleteSchedule(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, APIPrefix+"/schedules/"+url.PathEscape(name), nil, nil, nil)
}
