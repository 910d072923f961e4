package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testSchedules checks the schedules: a name is taken once unless replaced,
// a replacement with the same expression keeps the next tick, pausing
// removes a schedule from the due ones and resuming moves it on, and an
// advance is a compare and set on the next tick, so that of many processes
// deciding the same tick one records it.
func testSchedules(t *testing.T, h *harness) {
	tick := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	nightly := func() *store.ScheduleSaveParams {
		return &store.ScheduleSaveParams{
			Name: "nightly", Workflow: testWorkflow, Cron: "0 9 * * *", TimeZone: "Europe/Paris",
			Input: []byte(`{"document_id":7}`), CatchUp: klaxontype.CatchUpOne, Source: "api", NextTick: tick,
		}
	}

	t.Run("SaveGetList", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		saved := f.saveSchedule(nightly())
		if saved.Name != "nightly" || saved.Workflow != testWorkflow || saved.Cron != "0 9 * * *" ||
			saved.TimeZone != "Europe/Paris" || string(saved.Input) != `{"document_id":7}` ||
			saved.CatchUp != klaxontype.CatchUpOne || saved.Paused || !saved.NextTick.Equal(tick) ||
			!saved.LastTick.IsZero() || saved.Source != "api" || saved.CreatedAt.IsZero() {
			t.Errorf("saved %+v", saved)
		}
		f.saveSchedule(&store.ScheduleSaveParams{Name: "hourly", Workflow: "other", Cron: "@hourly",
			CatchUp: klaxontype.CatchUpAll, Source: "code", NextTick: tick})
		list, err := f.store.ScheduleList(f.ctx, &store.ScheduleListParams{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].Name != "hourly" || list[1].Name != "nightly" {
			t.Fatalf("listed %+v; want hourly and nightly, by name", list)
		}
		if string(list[0].Input) != "null" {
			t.Errorf("a schedule saved without input has %s; want null", list[0].Input)
		}
	})

	t.Run("NameTakenOnce", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.saveSchedule(nightly())
		other := nightly()
		other.Workflow = "other"
		_, err := f.store.ScheduleSave(f.ctx, other)
		if !errors.Is(err, klaxontype.ErrScheduleExists) {
			t.Fatalf("saving a taken name gave %v; want ErrScheduleExists", err)
		}
		if got := f.schedule("nightly", 0); got.Workflow != testWorkflow {
			t.Errorf("the refused save changed the schedule: %+v", got)
		}
	})

	t.Run("ReplaceKeepsTickAndPause", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.saveSchedule(nightly())
		if _, err := f.store.SchedulePause(f.ctx, &store.SchedulePauseParams{Name: "nightly", Paused: true}); err != nil {
			t.Fatal(err)
		}
		same := nightly()
		same.Replace, same.Source, same.Input = true, "code", []byte(`{"document_id":8}`)
		same.NextTick = tick.Add(24 * time.Hour)
		got := f.saveSchedule(same)
		if !got.NextTick.Equal(tick) || !got.Paused || string(got.Input) != `{"document_id":8}` || got.Source != "code" {
			t.Errorf("replaced with the same expression: %+v; want next tick %v kept, still paused, the new input", got, tick)
		}
		changed := nightly()
		changed.Replace, changed.Cron, changed.NextTick = true, "0 10 * * *", tick.Add(time.Hour)
		if got := f.saveSchedule(changed); !got.NextTick.Equal(tick.Add(time.Hour)) || got.Cron != "0 10 * * *" {
			t.Errorf("replaced with another expression: %+v; want its next tick", got)
		}
	})

	t.Run("PauseResumeDue", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.saveSchedule(nightly())
		if due := f.due(tick.Add(-time.Second)); len(due) != 0 {
			t.Errorf("due before its tick: %+v", due)
		}
		if due := f.due(tick); len(due) != 1 || due[0].Name != "nightly" {
			t.Errorf("due at its tick: %+v; want nightly", due)
		}
		if _, err := f.store.SchedulePause(f.ctx, &store.SchedulePauseParams{Name: "nightly", Paused: true}); err != nil {
			t.Fatal(err)
		}
		if due := f.due(tick.Add(time.Hour)); len(due) != 0 {
			t.Errorf("a paused schedule is due: %+v", due)
		}
		// A process that read the schedule before the pause records the
		// tick it fired.
		if advanced := f.advance(&store.ScheduleAdvanceParams{Name: "nightly", From: tick, NextTick: tick.Add(time.Hour),
			Outcomes: []*klaxontype.ScheduleOutcome{{Tick: tick, Decision: klaxontype.ScheduleFailed, Reason: "in flight"}}}); !advanced {
			t.Error("a tick fired as the schedule was paused was not recorded")
		}
		if got := f.schedule("nightly", 10); !got.Paused || len(got.Outcomes) != 1 {
			t.Errorf("after the in-flight tick: %+v; want it paused, the tick recorded", got)
		}
		resumeAt := tick.Add(48 * time.Hour)
		resumed, err := f.store.SchedulePause(f.ctx, &store.SchedulePauseParams{Name: "nightly", NextTick: resumeAt})
		if err != nil {
			t.Fatal(err)
		}
		if resumed.Paused || !resumed.NextTick.Equal(resumeAt) {
			t.Errorf("resumed %+v; want running from %v", resumed, resumeAt)
		}
		// Resuming a running schedule does not move it.
		again, err := f.store.SchedulePause(f.ctx, &store.SchedulePauseParams{Name: "nightly", NextTick: resumeAt.Add(time.Hour)})
		if err != nil || !again.NextTick.Equal(resumeAt) {
			t.Errorf("resumed a running schedule: %+v, %v; want next tick %v kept", again, err, resumeAt)
		}
	})

	t.Run("UnknownName", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		if _, err := f.store.ScheduleGet(f.ctx, &store.ScheduleGetParams{Name: "nope"}); !errors.Is(err, klaxontype.ErrNotFound) {
			t.Errorf("get: %v; want ErrNotFound", err)
		}
		if _, err := f.store.SchedulePause(f.ctx, &store.SchedulePauseParams{Name: "nope", Paused: true}); !errors.Is(err, klaxontype.ErrNotFound) {
			t.Errorf("pause: %v; want ErrNotFound", err)
		}
		if err := f.store.ScheduleDelete(f.ctx, &store.ScheduleDeleteParams{Name: "nope"}); !errors.Is(err, klaxontype.ErrNotFound) {
			t.Errorf("delete: %v; want ErrNotFound", err)
		}
	})

	t.Run("InvalidDefinition", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		for name, edit := range map[string]func(*store.ScheduleSaveParams){
			"no name":      func(p *store.ScheduleSaveParams) { p.Name = "" },
			"no workflow":  func(p *store.ScheduleSaveParams) { p.Workflow = "" },
			"no cron":      func(p *store.ScheduleSaveParams) { p.Cron = "" },
			"no next tick": func(p *store.ScheduleSaveParams) { p.NextTick = time.Time{} },
			"catch-up":     func(p *store.ScheduleSaveParams) { p.CatchUp = "twice" },
			"input":        func(p *store.ScheduleSaveParams) { p.Input = []byte("{") },
			"NUL":          func(p *store.ScheduleSaveParams) { p.Name = "a\x00b" },
		} {
			params := nightly()
			edit(params)
			if _, err := f.store.ScheduleSave(f.ctx, params); !errors.Is(err, klaxontype.ErrInvalid) {
				t.Errorf("%s: %v; want ErrInvalid", name, err)
			}
		}
		if list, err := f.store.ScheduleList(f.ctx, &store.ScheduleListParams{}); err != nil || len(list) != 0 {
			t.Errorf("refused saves left %+v (%v)", list, err)
		}
	})

	t.Run("AdvanceRecordsOutcomes", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.saveSchedule(nightly())
		run := f.enqueue(&store.RunEnqueueParams{IdempotencyKey: "schedule:nightly:" + tick.Format(time.RFC3339)})
		advanced := f.advance(&store.ScheduleAdvanceParams{Name: "nightly", From: tick, NextTick: tick.Add(72 * time.Hour),
			Outcomes: []*klaxontype.ScheduleOutcome{
				{Tick: tick, Decision: klaxontype.ScheduleSkipped, Reason: "missed"},
				{Tick: tick.Add(24 * time.Hour), Decision: klaxontype.ScheduleFailed, Reason: "unknown workflow"},
				{Tick: tick.Add(48 * time.Hour), Decision: klaxontype.ScheduleStarted, RunID: run.ID},
			}})
		if !advanced {
			t.Fatal("the advance from the schedule's next tick was refused")
		}
		got := f.schedule("nightly", 10)
		if !got.NextTick.Equal(tick.Add(72*time.Hour)) || !got.LastTick.Equal(tick.Add(48*time.Hour)) {
			t.Errorf("next %v last %v; want %v and %v", got.NextTick, got.LastTick, tick.Add(72*time.Hour), tick.Add(48*time.Hour))
		}
		if len(got.Outcomes) != 3 {
			t.Fatalf("outcomes %+v; want 3", got.Outcomes)
		}
		newest := got.Outcomes[0]
		if newest.Decision != klaxontype.ScheduleStarted || newest.RunID != run.ID || newest.RunStatus != klaxontype.RunStatusPending {
			t.Errorf("newest outcome %+v; want started, run %s, pending", newest, run.ID)
		}
		if o := got.Outcomes[2]; o.Decision != klaxontype.ScheduleSkipped || o.Reason != "missed" || o.RunID != "" || !o.Tick.Equal(tick) {
			t.Errorf("oldest outcome %+v; want the skipped tick", o)
		}
		if list, err := f.store.ScheduleList(f.ctx, &store.ScheduleListParams{Outcomes: 1}); err != nil || len(list) != 1 || len(list[0].Outcomes) != 1 {
			t.Errorf("listed %+v (%v); want the schedule with its latest outcome", list, err)
		}
		// Deleting the schedule deletes its outcomes, not its runs.
		if err := f.store.ScheduleDelete(f.ctx, &store.ScheduleDeleteParams{Name: "nightly"}); err != nil {
			t.Fatal(err)
		}
		f.saveSchedule(nightly())
		if got := f.schedule("nightly", 10); len(got.Outcomes) != 0 {
			t.Errorf("a schedule created again under a deleted one's name has %d outcomes", len(got.Outcomes))
		}
		if _, err := f.store.RunGet(f.ctx, run.ID); err != nil {
			t.Errorf("the run a deleted schedule started: %v", err)
		}
	})

	t.Run("OutcomesTrimmed", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.saveSchedule(nightly())
		from := tick
		for batch := 0; batch < 3; batch++ {
			var outcomes []*klaxontype.ScheduleOutcome
			for i := 0; i < store.ScheduleOutcomesKept/2+1; i++ {
				outcomes = append(outcomes, &klaxontype.ScheduleOutcome{Tick: from, Decision: klaxontype.ScheduleSkipped})
				from = from.Add(time.Minute)
			}
			if !f.advance(&store.ScheduleAdvanceParams{Name: "nightly", From: outcomes[0].Tick, NextTick: from, Outcomes: outcomes}) {
				t.Fatal("advance refused")
			}
		}
		got := f.schedule("nightly", store.ScheduleOutcomesKept)
		if len(got.Outcomes) != store.ScheduleOutcomesKept || !got.Outcomes[0].Tick.Equal(from.Add(-time.Minute)) {
			t.Errorf("kept %d outcomes, the newest %v; want %d, the newest %v", len(got.Outcomes), got.Outcomes[0].Tick,
				store.ScheduleOutcomesKept, from.Add(-time.Minute))
		}
	})

	t.Run("OneAdvancePerTick", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.saveSchedule(nightly())
		const processes = 8
		var wg sync.WaitGroup
		wins := make(chan bool, processes)
		for i := range processes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				advanced, err := f.store.ScheduleAdvance(f.ctx, &store.ScheduleAdvanceParams{
					Name: "nightly", From: tick, NextTick: tick.Add(24 * time.Hour),
					Outcomes: []*klaxontype.ScheduleOutcome{{Tick: tick, Decision: klaxontype.ScheduleFailed, Reason: string(rune('a' + i))}},
				})
				if err != nil {
					t.Error(err)
				}
				wins <- advanced
			}()
		}
		wg.Wait()
		close(wins)
		won := 0
		for advanced := range wins {
			if advanced {
				won++
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent advances from the same tick won; want exactly 1", won, processes)
		}
		if got := f.schedule("nightly", 10); len(got.Outcomes) != 1 || !got.NextTick.Equal(tick.Add(24*time.Hour)) {
			t.Errorf("after the race: %d outcomes, next tick %v; want 1 and %v", len(got.Outcomes), got.NextTick, tick.Add(24*time.Hour))
		}
	})
}

func (f *fixture) saveSchedule(params *store.ScheduleSaveParams) *klaxontype.Schedule {
	f.t.Helper()
	schedule, err := f.store.ScheduleSave(f.ctx, params)
	if err != nil {
		f.t.Fatalf("ScheduleSave %s: %v", params.Name, err)
	}
	return schedule
}

func (f *fixture) schedule(name string, outcomes int) *klaxontype.Schedule {
	f.t.Helper()
	schedule, err := f.store.ScheduleGet(f.ctx, &store.ScheduleGetParams{Name: name, Outcomes: outcomes})
	if err != nil {
		f.t.Fatalf("ScheduleGet %s: %v", name, err)
	}
	return schedule
}

func (f *fixture) due(now time.Time) []*klaxontype.Schedule {
	f.t.Helper()
	due, err := f.store.SchedulesDue(f.ctx, &store.SchedulesDueParams{Now: now})
	if err != nil {
		f.t.Fatalf("SchedulesDue: %v", err)
	}
	return due
}

func (f *fixture) advance(params *store.ScheduleAdvanceParams) bool {
	f.t.Helper()
	advanced, err := f.store.ScheduleAdvance(f.ctx, params)
	if err != nil {
		f.t.Fatalf("ScheduleAdvance: %v", err)
	}
	return advanced
}
