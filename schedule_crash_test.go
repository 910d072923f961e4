package klaxon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// scheduleFirerRole is a process that fires the schedules of the database
// at KLAXON_TEST_DB (a SQLite file or a PostgreSQL URL) until killed. With
// KLAXON_TEST_HOLD_TICK set it prints "enqueued TICK RUN" once it has
// enqueued a tick's run and then hangs before recording the tick: the
// moment the crash test kills it.
const scheduleFirerRole = "schedule-firer"

func runScheduleFirer() int {
	ctx := context.Background()
	var st store.Store
	var err error
	if db := os.Getenv("KLAXON_TEST_DB"); strings.HasPrefix(db, "postgres://") {
		st, err = postgres.Open(ctx, db, nil)
	} else {
		st, err = sqlite.Open(ctx, db, nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	if os.Getenv("KLAXON_TEST_HOLD_TICK") != "" {
		klaxon.SetAfterScheduleEnqueue(func(_ string, tick time.Time, runID string) {
			fmt.Printf("enqueued %s %s\n", tick.Format(time.RFC3339Nano), runID)
			select {} // hold the tick until killed
		})
	}
	client, err := klaxon.NewClient(st, &klaxon.Config{ScheduleInterval: 20 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("firing")
	_ = client.RunSchedules(ctx)
	return 0
}

// TestScheduleTickSurvivesSIGKILL kills the process holding a schedule's
// tick after it enqueued the tick's run and before it recorded the tick:
// the tick is neither lost (another process records it) nor doubled (its
// run is the one the killed process enqueued, found by the idempotency key
// of the schedule and tick).
func TestScheduleTickSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts and kills a process; skipped in -short mode")
	}
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "schedule-crash.db")
	st, err := sqlite.Open(t.Context(), dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	survivor := startClient(t, st, &klaxon.Config{ScheduleInterval: -1}, tickWork())
	if _, err := survivor.CreateSchedule(t.Context(), klaxon.ScheduleDefinition{
		Name: "crash", Workflow: "tick-work", Cron: "* * * * * *", CatchUp: klaxontype.CatchUpAll,
	}, "carol"); err != nil {
		t.Fatal(err)
	}

	holder := startChild(t, scheduleFirerRole, dbPath, "", "KLAXON_TEST_HOLD_TICK=1")
	var heldTick time.Time
	var heldRun string
	timeout := time.After(15 * time.Second)
	for heldRun == "" {
		select {
		case line, ok := <-holder.lines:
			if !ok {
				t.Fatal("the firing process exited before it enqueued a tick")
			}
			var tick string
			if _, err := fmt.Sscanf(line, "enqueued %s %s", &tick, &heldRun); err == nil {
				if heldTick, err = time.Parse(time.RFC3339Nano, tick); err != nil {
					t.Fatal(err)
				}
			}
		case <-timeout:
			t.Fatal("the firing process enqueued no tick within 15s")
		}
	}
	if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = holder.cmd.Wait()

	held, err := survivor.GetSchedule(t.Context(), "crash", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !held.NextTick.Equal(heldTick) || len(held.Outcomes) != 0 {
		t.Fatalf("after the kill: next tick %v, %d outcomes; want the held tick %v still next, nothing recorded", held.NextTick, len(held.Outcomes), heldTick)
	}

	// Another process fires the schedule: it takes the held tick up first.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := survivor.FireSchedules(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	outcomes := checkOneRunPerTick(t, st, "crash", 2)
	oldest := outcomes[len(outcomes)-1]
	if !oldest.Tick.Equal(heldTick) || oldest.RunID != heldRun {
		t.Errorf("the oldest recorded tick is %v with run %s; want the held tick %v with the killed process's run %s",
			oldest.Tick, oldest.RunID, heldTick, heldRun)
	}
}

// TestScheduleEverySecondThreeProcessesPostgres is the benchmark: a
// schedule at every second, fired by 3 processes on PostgreSQL for 60 s,
// produces exactly 60 runs for the 60 ticks of that minute, none twice. It
// takes a minute, so it runs only with KLAXON_SCHEDULE_BENCH=1 (and
// KLAXON_TEST_POSTGRES_URL); KLAXON_SCHEDULE_BENCH_SECONDS shortens it.
func TestScheduleEverySecondThreeProcessesPostgres(t *testing.T) {
	if os.Getenv("KLAXON_SCHEDULE_BENCH") == "" {
		t.Skip("a minute long: set KLAXON_SCHEDULE_BENCH=1 (and KLAXON_TEST_POSTGRES_URL) to run it")
	}
	seconds := 60
	if given := os.Getenv("KLAXON_SCHEDULE_BENCH_SECONDS"); given != "" {
		if _, err := fmt.Sscan(given, &seconds); err != nil {
			t.Fatal(err)
		}
	}
	url := pgtest.SchemaURL(t, "klaxon_schedules_")
	st, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.WorkflowRegister(t.Context(), &store.WorkflowRegisterParams{Name: "tick-work", Version: 1}); err != nil {
		t.Fatal(err)
	}
	// The first tick is a whole second a little ahead, so that the three
	// processes are firing by then.
	first := time.Now().Add(3 * time.Second).Truncate(time.Second)
	if _, err := st.ScheduleSave(t.Context(), &store.ScheduleSaveParams{
		Name: "every-second", Workflow: "tick-work", Cron: "* * * * * *", TimeZone: "UTC",
		CatchUp: klaxontype.CatchUpOne, Source: "api", NextTick: first,
	}); err != nil {
		t.Fatal(err)
	}
	var children []*childProcess
	for range 3 {
		child := startChild(t, scheduleFirerRole, url, "")
		children = append(children, child)
	}
	for _, child := range children {
		if line := <-child.lines; line != "firing" {
			t.Fatalf("a firing process said %q", line)
		}
	}
	end := first.Add(time.Duration(seconds) * time.Second)
	time.Sleep(time.Until(end.Add(500 * time.Millisecond)))
	for _, child := range children {
		_ = child.cmd.Process.Signal(syscall.SIGKILL)
		_ = child.cmd.Wait()
	}
	outcomes := checkOneRunPerTick(t, st, "every-second", seconds)
	inWindow := 0
	for _, outcome := range outcomes {
		if !outcome.Tick.Before(first) && outcome.Tick.Before(end) {
			inWindow++
		}
	}
	if inWindow != seconds {
		t.Errorf("%d runs for the %d ticks from %v to %v; want exactly %d", inWindow, seconds, first, end, seconds)
	}
	t.Logf("%d processes, %d s: %d runs for the %d ticks of the window, %d ticks recorded in all", len(children), seconds, inWindow, seconds, len(outcomes))
}
