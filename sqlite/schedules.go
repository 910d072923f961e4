package sqlite

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// ScheduleGet returns a schedule with its latest decisions.
func (s *Store) ScheduleGet(ctx context.Context, params *store.ScheduleGetParams) (*klaxontype.Schedule, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var schedule *klaxontype.Schedule
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		schedule = nil
		if err := execute(conn, scheduleGetSQL, func(stmt *sqlite.Stmt) (err error) {
			schedule, err = scanSchedule(stmt, s.keys)
			return err
		}, params.Name); err != nil {
			return err
		}
		if schedule == nil {
			return store.ScheduleNotFound(params.Name)
		}
		return readOutcomes(conn, schedule, params.Outcomes)
	})
	return schedule, err
}

// ScheduleList returns schedules by name with their latest decisions.
func (s *Store) ScheduleList(ctx context.Context, params *store.ScheduleListParams) ([]*klaxontype.Schedule, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var schedules []*klaxontype.Schedule
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		schedules = []*klaxontype.Schedule{}
		if err := execute(conn, scheduleListSQL, func(stmt *sqlite.Stmt) error {
			schedule, err := scanSchedule(stmt, s.keys)
			schedules = append(schedules, schedule)
			return err
		}, params.PageLimit()); err != nil {
			return err
		}
		for _, schedule := range schedules {
			if err := readOutcomes(conn, schedule, params.Outcomes); err != nil {
				return err
			}
		}
		return nil
	})
	return schedules, err
}

// SchedulesDue returns the schedules to fire, the most overdue first.
func (s *Store) SchedulesDue(ctx context.Context, params *store.SchedulesDueParams) ([]*klaxontype.Schedule, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var schedules []*klaxontype.Schedule
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		schedules = []*klaxontype.Schedule{}
		return execute(conn, schedulesDueSQL, func(stmt *sqlite.Stmt) error {
			schedule, err := scanSchedule(stmt, s.keys)
			schedules = append(schedules, schedule)
			return err
		}, params.Now, params.PageLimit())
	})
	return schedules, err
}

// The schedule primitives the rules of txn are written over.

func (t *tx) ScheduleWrite(_ context.Context, params *store.ScheduleSaveParams, at time.Time) (bool, error) {
	query := scheduleInsertSQL
	if params.Replace {
		query = scheduleReplaceSQL
	}
	if err := execute(t.conn, query, nil, params.Name, params.Workflow, params.Cron, params.TimeZone,
		t.keys.Seal(params.StoredInput()), string(params.CatchUp), params.Source, params.NextTick, at); err != nil {
		return false, err
	}
	return t.conn.Changes() > 0, nil
}

func (t *tx) SchedulePause(_ context.Context, params *store.SchedulePauseParams, at time.Time) (bool, error) {
	if err := execute(t.conn, schedulePauseSQL, nil, params.Name, params.Paused, params.NextTick, at); err != nil {
		return false, err
	}
	return t.conn.Changes() > 0, nil
}

func (t *tx) ScheduleDelete(_ context.Context, name string) (bool, error) {
	if err := execute(t.conn, scheduleDeleteSQL, nil, name); err != nil {
		return false, err
	}
	if t.conn.Changes() == 0 {
		return false, nil
	}
	return true, execute(t.conn, scheduleOutcomesDeleteSQL, nil, name)
}

func (t *tx) ScheduleGet(_ context.Context, name string) (*klaxontype.Schedule, error) {
	var schedule *klaxontype.Schedule
	err := execute(t.conn, scheduleGetSQL, func(stmt *sqlite.Stmt) error {
		var err error
		schedule, err = scanSchedule(stmt, t.keys)
		return err
	}, name)
	if err == nil && schedule == nil {
		err = store.ScheduleNotFound(name)
	}
	return schedule, err
}

func (t *tx) ScheduleMoveTick(_ context.Context, params *store.ScheduleAdvanceParams) (bool, error) {
	if err := execute(t.conn, scheduleAdvanceSQL, nil, params.Name, params.From, params.NextTick, params.LastTick()); err != nil {
		return false, err
	}
	return t.conn.Changes() > 0, nil
}

func (t *tx) ScheduleOutcomeInsert(_ context.Context, name string, outcome *klaxontype.ScheduleOutcome, at time.Time) error {
	var runID any
	if outcome.RunID != "" {
		runID = outcome.RunID
	}
	return execute(t.conn, scheduleOutcomeInsertSQL, nil, name, outcome.Tick, string(outcome.Decision),
		runID, store.StorableText(outcome.Reason), at)
}

func (t *tx) ScheduleOutcomesTrim(_ context.Context, name string, kept int) error {
	return execute(t.conn, scheduleOutcomesTrimSQL, nil, name, kept)
}

func scanSchedule(stmt *sqlite.Stmt, keys *store.Keyring) (*klaxontype.Schedule, error) {
	input, err := openColumn(stmt, "input", keys)
	if err != nil {
		return nil, err
	}
	return &klaxontype.Schedule{
		Name: stmt.GetText("name"), Workflow: stmt.GetText("workflow"), Cron: stmt.GetText("cron"),
		TimeZone: stmt.GetText("time_zone"), Input: input,
		CatchUp: klaxontype.CatchUp(stmt.GetText("catch_up")), Paused: stmt.GetInt64("paused") != 0,
		NextTick: columnTime(stmt, "next_tick"), LastTick: columnTime(stmt, "last_tick"),
		Source: stmt.GetText("source"), CreatedAt: columnTime(stmt, "created_at"), UpdatedAt: columnTime(stmt, "updated_at"),
	}, nil
}

// readOutcomes sets a schedule's latest limit decisions, none for zero.
func readOutcomes(conn *sqlite.Conn, schedule *klaxontype.Schedule, limit int) error {
	if limit == 0 {
		return nil
	}
	schedule.Outcomes = []*klaxontype.ScheduleOutcome{}
	return execute(conn, scheduleOutcomesListSQL, func(stmt *sqlite.Stmt) error {
		schedule.Outcomes = append(schedule.Outcomes, &klaxontype.ScheduleOutcome{
			Tick: columnTime(stmt, "tick"), Decision: klaxontype.ScheduleDecision(stmt.GetText("decision")),
			RunID: stmt.GetText("run_id"), RunStatus: klaxontype.RunStatus(stmt.GetText("run_status")),
			Reason: stmt.GetText("reason"), DecidedAt: columnTime(stmt, "decided_at"),
		})
		return nil
	}, schedule.Name, limit)
}
