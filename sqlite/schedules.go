package sqlite

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// ScheduleSave creates a schedule, or replaces its definition.
func (s *Store) ScheduleSave(ctx context.Context, params *store.ScheduleSaveParams) (*klaxontype.Schedule, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	query := scheduleInsertSQL
	if params.Replace {
		query = scheduleReplaceSQL
	}
	err := s.writer.write(func(conn *sqlite.Conn) error {
		if err := execute(conn, query, nil, params.Name, params.Workflow, params.Cron, params.TimeZone,
			s.keys.Seal(params.StoredInput()), string(params.CatchUp), params.Source, params.NextTick, now()); err != nil {
			return err
		}
		if conn.Changes() == 0 {
			return reject(store.ScheduleExists(params.Name))
		}
		return auditSchedule(ctx, conn, params.AuditRecord(now()))
	})
	if err != nil {
		return nil, err
	}
	return s.ScheduleGet(ctx, &store.ScheduleGetParams{Name: params.Name})
}

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

// SchedulePause pauses or resumes a schedule.
func (s *Store) SchedulePause(ctx context.Context, params *store.SchedulePauseParams) (*klaxontype.Schedule, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	err := s.writer.write(func(conn *sqlite.Conn) error {
		if err := execute(conn, schedulePauseSQL, nil, params.Name, params.Paused, params.NextTick, now()); err != nil {
			return err
		}
		if conn.Changes() == 0 {
			return reject(store.ScheduleNotFound(params.Name))
		}
		return auditSchedule(ctx, conn, params.AuditRecord(now()))
	})
	if err != nil {
		return nil, err
	}
	return s.ScheduleGet(ctx, &store.ScheduleGetParams{Name: params.Name})
}

// ScheduleDelete deletes a schedule and its decisions.
func (s *Store) ScheduleDelete(ctx context.Context, params *store.ScheduleDeleteParams) error {
	if err := params.Validate(); err != nil {
		return err
	}
	return s.writer.write(func(conn *sqlite.Conn) error {
		if err := execute(conn, scheduleDeleteSQL, nil, params.Name); err != nil {
			return err
		}
		if conn.Changes() == 0 {
			return reject(store.ScheduleNotFound(params.Name))
		}
		if err := execute(conn, scheduleOutcomesDeleteSQL, nil, params.Name); err != nil {
			return err
		}
		return auditSchedule(ctx, conn, params.AuditRecord(now()))
	})
}

// auditSchedule records a person's change of a schedule in the audit log,
// in the change's transaction; a change without an actor records nothing.
func auditSchedule(ctx context.Context, conn *sqlite.Conn, record *klaxontype.AuditRecord) error {
	if record == nil {
		return nil
	}
	return (&tx{conn: conn}).AuditInsert(ctx, record)
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

// ScheduleAdvance records decisions and moves the next tick, if no other
// process moved it first.
func (s *Store) ScheduleAdvance(ctx context.Context, params *store.ScheduleAdvanceParams) (bool, error) {
	if err := params.Validate(); err != nil {
		return false, err
	}
	advanced := false
	err := s.writer.write(func(conn *sqlite.Conn) error {
		advanced = false
		if err := execute(conn, scheduleAdvanceSQL, nil, params.Name, params.From, params.NextTick, params.LastTick()); err != nil {
			return err
		}
		if conn.Changes() == 0 {
			return nil
		}
		advanced = true
		decidedAt := now()
		for _, outcome := range params.Outcomes {
			var runID any
			if outcome.RunID != "" {
				runID = outcome.RunID
			}
			if err := execute(conn, scheduleOutcomeInsertSQL, nil, params.Name, outcome.Tick, string(outcome.Decision),
				runID, store.StorableText(outcome.Reason), decidedAt); err != nil {
				return err
			}
		}
		return execute(conn, scheduleOutcomesTrimSQL, nil, params.Name, store.ScheduleOutcomesKept)
	})
	return advanced, err
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
