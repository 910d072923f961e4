package klaxon_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// tickWork is the workflow the schedule tests fire: it returns its input.
func tickWork(opts ...klaxon.WorkflowOption) *klaxon.Workflow[map[string]int, map[string]int] {
	return klaxon.NewWorkflow("tick-work", func(ctx context.Context, in map[string]int) (map[string]int, error) {
		return in, nil
	}, opts...)
}

// TestScheduleDeclaredInCode checks that a schedule declared with
// klaxon.Schedule is saved when the client starts, fires its runs with its
// input, and records each tick's run on the schedule; and that a restart
// with the same declaration keeps a pause a person made.
func TestScheduleDeclaredInCode(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	config := fastConfig()
	config.ScheduleInterval = 50 * time.Millisecond
	client := startClient(t, st, config, tickWork(klaxon.Schedule("every-second", "* * * * * *",
		klaxon.InTimeZone("Europe/Paris"), klaxon.ScheduleInput(map[string]int{"n": 7}))))
	schedule := awaitOutcomes(t, client, "every-second", 2)
	if schedule.Source != "code" || schedule.TimeZone != "Europe/Paris" || schedule.CatchUp != klaxontype.CatchUpOne || schedule.Workflow != "tick-work" {
		t.Errorf("saved %+v; want declared in code, in Europe/Paris, catch-up one, of tick-work", schedule)
	}
	for _, outcome := range schedule.Outcomes {
		if outcome.Decision != klaxontype.ScheduleStarted || outcome.RunID == "" {
			t.Fatalf("outcome %+v; want a started run", outcome)
		}
		run := awaitRun(t, client, outcome.RunID)
		if string(run.Output) != `{"n":7}` || run.Entities["schedule"] != "every-second" {
			t.Errorf("run %s: output %s, entities %v; want the schedule's input and its name", run.ID, run.Output, run.Entities)
		}
	}
	if _, err := client.PauseSchedule(t.Context(), "every-second", "carol"); err != nil {
		t.Fatal(err)
	}
	restarted, err := klaxon.NewClient(st, &klaxon.Config{ScheduleInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Register(tickWork(klaxon.Schedule("every-second", "* * * * * *", klaxon.InTimeZone("Europe/Paris")))); err != nil {
		t.Fatal(err)
	}
	if err := restarted.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer restarted.Stop(context.Background())
	if got, err := restarted.GetSchedule(t.Context(), "every-second", 0); err != nil || !got.Paused {
		t.Errorf("after a restart declaring it again: %+v, %v; want it still paused", got, err)
	}
}

// TestScheduleBadInput checks that an invalid cron expression, time zone or
// catch-up policy, an unknown workflow and an input the workflow refuses
// each get an error naming the problem, and save nothing.
func TestScheduleBadInput(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	client := startClient(t, st, nil, tickWork())
	good := klaxon.ScheduleDefinition{Name: "s", Workflow: "tick-work", Cron: "*/5 * * * *"}
	for _, c := range []struct {
		name string
		edit func(*klaxon.ScheduleDefinition)
		// says is what the error must name.
		says string
		// unknownWorkflow: the error is an *UnknownWorkflowError, not ErrInvalid.
		unknownWorkflow bool
	}{
		{"cron", func(d *klaxon.ScheduleDefinition) { d.Cron = "every tuesday" }, `"every tuesday" is not a cron expression`, false},
		{"cron range", func(d *klaxon.ScheduleDefinition) { d.Cron = "61 * * * *" }, "cron", false},
		{"cron tz prefix", func(d *klaxon.ScheduleDefinition) { d.Cron = "CRON_TZ=Asia/Tokyo 0 9 * * *" }, "time zone", false},
		{"time zone", func(d *klaxon.ScheduleDefinition) { d.TimeZone = "Mars/Olympus_Mons" }, `"Mars/Olympus_Mons" is not an IANA time zone name`, false},
		{"local zone", func(d *klaxon.ScheduleDefinition) { d.TimeZone = "Local" }, "time_zone", false},
		{"catch-up", func(d *klaxon.ScheduleDefinition) { d.CatchUp = "twice" }, `"twice" is not one of one, skip, all`, false},
		{"no name", func(d *klaxon.ScheduleDefinition) { d.Name = " " }, "needs a name", false},
		{"input", func(d *klaxon.ScheduleDefinition) { d.Input = []byte(`"not an object"`) }, "tick-work", false},
		{"workflow", func(d *klaxon.ScheduleDefinition) { d.Workflow = "no-such-workflow" }, "no-such-workflow", true},
	} {
		definition := good
		c.edit(&definition)
		_, err := client.CreateSchedule(t.Context(), definition, "carol")
		var unknown *klaxon.UnknownWorkflowError
		var input *klaxon.InputError
		switch {
		case err == nil:
			t.Errorf("%s: accepted", c.name)
			continue
		case c.unknownWorkflow && !errors.As(err, &unknown):
			t.Errorf("%s: %v; want an UnknownWorkflowError", c.name, err)
		case !c.unknownWorkflow && !errors.Is(err, klaxontype.ErrInvalid) && !errors.As(err, &input):
			t.Errorf("%s: %v; want ErrInvalid or an InputError", c.name, err)
		}
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %q does not say %q", c.name, err, c.says)
		}
	}
	if list, err := client.ListSchedules(t.Context(), 0); err != nil || len(list) != 0 {
		t.Errorf("refused schedules left %d saved (%v)", len(list), err)
	}
	if _, err := client.CreateSchedule(t.Context(), good, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateSchedule(t.Context(), good, "carol"); !errors.Is(err, klaxontype.ErrScheduleExists) {
		t.Errorf("a second schedule named s: %v; want ErrScheduleExists", err)
	}
	if err := client.DeleteSchedule(t.Context(), "nope", "carol"); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Errorf("deleting an unknown schedule: %v; want ErrNotFound", err)
	}
	if _, err := client.PauseSchedule(t.Context(), good.Name, "dave"); err != nil {
		t.Fatal(err)
	}
	if err := client.DeleteSchedule(t.Context(), good.Name, "erin"); err != nil {
		t.Fatal(err)
	}
	// The people's changes are in the audit log, the refused ones not.
	records, err := client.AuditLog(t.Context(), &klaxon.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range records {
		if strings.HasPrefix(string(r.Action), "schedule.") {
			got = append(got, r.Actor+" "+string(r.Action)+" "+r.Target)
		}
	}
	want := []string{"erin schedule.delete " + good.Name, "dave schedule.pause " + good.Name, "carol schedule.create " + good.Name}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("audit log %q; want %q", got, want)
	}
}

// TestScheduleOnceAcrossClients runs three clients firing one every-second
// schedule on one store: every tick gets exactly one run, none is lost.
func TestScheduleOnceAcrossClients(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	first := startClient(t, st, &klaxon.Config{ScheduleInterval: -1}, tickWork())
	if _, err := first.CreateSchedule(t.Context(), klaxon.ScheduleDefinition{
		Name: "busy", Workflow: "tick-work", Cron: "* * * * * *", CatchUp: klaxontype.CatchUpAll,
	}, "carol"); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(t.Context(), 3500*time.Millisecond)
	defer stop()
	var wg sync.WaitGroup
	for range 3 {
		client, err := klaxon.NewClient(st, &klaxon.Config{ScheduleInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = client.RunSchedules(ctx)
		}()
	}
	wg.Wait()
	checkOneRunPerTick(t, st, "busy", 3)
}

// checkOneRunPerTick checks a schedule's record against its runs: at least
// min ticks, consecutive, each started once with a run of its own, and no
// run of the schedule that no tick started.
func checkOneRunPerTick(t *testing.T, st store.Store, name string, min int) []*klaxontype.ScheduleOutcome {
	t.Helper()
	schedule, err := st.ScheduleGet(context.Background(), &store.ScheduleGetParams{Name: name, Outcomes: store.ScheduleOutcomesKept})
	if err != nil {
		t.Fatal(err)
	}
	if len(schedule.Outcomes) < min {
		t.Fatalf("%d ticks decided; want at least %d", len(schedule.Outcomes), min)
	}
	runIDs := map[string]bool{}
	for i, outcome := range schedule.Outcomes {
		if outcome.Decision != klaxontype.ScheduleStarted || runIDs[outcome.RunID] {
			t.Errorf("tick %v: %+v; want a run of its own", outcome.Tick, outcome)
		}
		runIDs[outcome.RunID] = true
		if i > 0 && !schedule.Outcomes[i-1].Tick.Equal(outcome.Tick.Add(time.Second)) {
			t.Errorf("ticks %v and %v are not a second apart: a tick was lost", outcome.Tick, schedule.Outcomes[i-1].Tick)
		}
	}
	runs, err := st.RunList(context.Background(), &store.RunListParams{Entities: map[string]string{"schedule": name}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != len(schedule.Outcomes) {
		t.Errorf("%d runs of the schedule for %d ticks; want one each", len(runs), len(schedule.Outcomes))
	}
	for _, run := range runs {
		if !runIDs[run.ID] {
			t.Errorf("run %s of the schedule was started by no recorded tick", run.ID)
		}
	}
	return schedule.Outcomes
}

// awaitOutcomes waits until a schedule has recorded n decisions.
func awaitOutcomes(t *testing.T, client *klaxon.Client, name string, n int) *klaxontype.Schedule {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		schedule, err := client.GetSchedule(t.Context(), name, 10)
		if err == nil && len(schedule.Outcomes) >= n {
			return schedule
		}
		if time.Now().After(deadline) {
			t.Fatalf("schedule %s: %+v, %v; want %d decisions within 10s", name, schedule, err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestScheduleOfGoneWorkflow checks that a tick whose workflow no longer
// exists is recorded failed, naming the workflow, and that the schedule
// goes on with its next tick rather than retrying the tick forever.
func TestScheduleOfGoneWorkflow(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	client := startClient(t, st, &klaxon.Config{ScheduleInterval: -1}, tickWork())
	tick := time.Now().Add(-time.Second).Truncate(time.Second)
	if _, err := st.ScheduleSave(t.Context(), &store.ScheduleSaveParams{
		Name: "orphan", Workflow: "retired-workflow", Cron: "@every 1h", CatchUp: klaxontype.CatchUpOne,
		Source: "api", NextTick: tick,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.FireSchedules(t.Context()); err != nil {
		t.Fatal(err)
	}
	schedule, err := client.GetSchedule(t.Context(), "orphan", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(schedule.Outcomes) != 1 || schedule.Outcomes[0].Decision != klaxontype.ScheduleFailed ||
		!strings.Contains(schedule.Outcomes[0].Reason, "retired-workflow") {
		t.Fatalf("outcomes %+v; want one failed tick naming retired-workflow", schedule.Outcomes)
	}
	if !schedule.NextTick.After(tick) {
		t.Errorf("next tick %v; want it moved past the failed tick %v", schedule.NextTick, tick)
	}
}
