package http_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// TestSchedulesAPI drives a schedule's life through the API: an operator
// creates, pauses, resumes and deletes it, a reader lists and shows it but
// may change nothing, and each bad request is a 4xx problem naming what is
// wrong that saves nothing.
func TestSchedulesAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	operator, reader := f.client(operateSecret), f.client(readSecret)
	ctx := t.Context()

	created, err := operator.CreateSchedule(ctx, klaxon.ScheduleDefinition{
		Name: "nightly-greet", Workflow: "greet", Cron: "0 3 * * *", TimeZone: "Europe/Paris", Input: []byte(`"night"`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.CatchUp != klaxontype.CatchUpOne || created.Source != "api" || created.NextTick.IsZero() || created.Paused {
		t.Errorf("created %+v; want catch-up one, from the API, with a next tick, running", created)
	}
	if _, err := reader.CreateSchedule(ctx, klaxon.ScheduleDefinition{Name: "x", Workflow: "greet", Cron: "@daily"}); err == nil {
		t.Error("a reader created a schedule")
	}
	list, err := reader.Schedules(ctx, 0)
	if err != nil || len(list) != 1 || list[0].Name != "nightly-greet" {
		t.Fatalf("a reader listed %+v (%v)", list, err)
	}
	paused, err := operator.PauseSchedule(ctx, "nightly-greet")
	if err != nil || !paused.Paused {
		t.Fatalf("paused %+v (%v)", paused, err)
	}
	resumed, err := operator.ResumeSchedule(ctx, "nightly-greet")
	if err != nil || resumed.Paused {
		t.Fatalf("resumed %+v (%v)", resumed, err)
	}
	shown, err := reader.Schedule(ctx, "nightly-greet", 5)
	if err != nil || shown.Outcomes == nil {
		t.Fatalf("shown %+v (%v); want an empty list of outcomes, not none", shown, err)
	}

	for _, c := range []struct {
		body   string
		status int
		says   []string
	}{
		{`{"name":"a","workflow":"greet","cron":"61 * * * *"}`, http.StatusUnprocessableEntity, []string{"cron", "61 * * * *"}},
		{`{"name":"a","workflow":"greet","cron":"@daily","time_zone":"Nowhere/Else"}`, http.StatusUnprocessableEntity, []string{"Nowhere/Else", "IANA"}},
		{`{"name":"a","workflow":"greet","cron":"@daily","catch_up":"twice"}`, http.StatusUnprocessableEntity, []string{"twice"}},
		{`{"name":"a","workflow":"greet","cron":"@daily","input":42}`, http.StatusUnprocessableEntity, []string{"greet"}},
		{`{"name":"a","workflow":"no-such","cron":"@daily"}`, http.StatusNotFound, []string{"no-such"}},
		{`{"name":"nightly-greet","workflow":"greet","cron":"@daily"}`, http.StatusConflict, []string{"nightly-greet"}},
	} {
		f.do(http.MethodPost, "/api/v1/schedules", operateSecret, c.body).wantProblem(t, c.status, c.says...)
	}
	f.do(http.MethodPost, "/api/v1/schedules/nope/pause", operateSecret, "").wantProblem(t, http.StatusNotFound, "nope")
	if list, err := reader.Schedules(ctx, 0); err != nil || len(list) != 1 || list[0].Cron != "0 3 * * *" {
		t.Fatalf("after the refused requests: %+v (%v); want the one schedule, unchanged", list, err)
	}

	if err := reader.DeleteSchedule(ctx, "nightly-greet"); err == nil {
		t.Error("a reader deleted a schedule")
	}
	if err := operator.DeleteSchedule(ctx, "nightly-greet"); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Schedule(ctx, "nightly-greet", 0); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Errorf("a deleted schedule: %v; want ErrNotFound", err)
	}
}
