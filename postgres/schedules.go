package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
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
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, params.Name, params.Workflow, params.Cron, params.TimeZone,
			s.keys.Seal(params.StoredInput()), string(params.CatchUp), params.Source, params.NextTick.UTC(), now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return reject(store.ScheduleExists(params.Name))
		}
		return auditSchedule(ctx, tx, params.AuditRecord(now()))
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
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		schedules, err := querySchedules(ctx, q, s.keys, scheduleGetSQL, params.Name)
		if err != nil {
			return err
		}
		if len(schedules) == 0 {
			return store.ScheduleNotFound(params.Name)
		}
		schedule = schedules[0]
		return readOutcomes(ctx, q, schedule, params.Outcomes)
	})
	return schedule, err
}

// ScheduleList returns schedules by name with their latest decisions.
func (s *Store) ScheduleList(ctx context.Context, params *store.ScheduleListParams) ([]*klaxontype.Schedule, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var schedules []*klaxontype.Schedule
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		if schedules, err = querySchedules(ctx, q, s.keys, scheduleListSQL, params.PageLimit()); err != nil {
			return err
		}
		for _, schedule := range schedules {
			if err := readOutcomes(ctx, q, schedule, params.Outcomes); err != nil {
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
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, schedulePauseSQL, params.Name, params.Paused, params.NextTick.UTC(), now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return reject(store.ScheduleNotFound(params.Name))
		}
		return auditSchedule(ctx, tx, params.AuditRecord(now()))
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
	return s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, scheduleOutcomesDeleteSQL, params.Name); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, scheduleDeleteSQL, params.Name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return reject(store.ScheduleNotFound(params.Name))
		}
		return auditSchedule(ctx, tx, params.AuditRecord(now()))
	})
}

// auditSchedule records a person's change of a schedule in the audit log,
// in the change's transaction; a change without an actor records nothing.
func auditSchedule(ctx context.Context, pgtx pgx.Tx, record *klaxontype.AuditRecord) error {
	if record == nil {
		return nil
	}
	return (&tx{tx: pgtx}).AuditInsert(ctx, record)
}

// SchedulesDue returns the schedules to fire, the most overdue first.
func (s *Store) SchedulesDue(ctx context.Context, params *store.SchedulesDueParams) ([]*klaxontype.Schedule, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var schedules []*klaxontype.Schedule
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		var err error
		schedules, err = querySchedules(ctx, q, s.keys, schedulesDueSQL, params.Now.UTC(), params.PageLimit())
		return err
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
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		advanced = false
		tag, err := tx.Exec(ctx, scheduleAdvanceSQL, params.Name, params.From.UTC(), params.NextTick.UTC(), params.LastTick().UTC())
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		decidedAt := now()
		for _, outcome := range params.Outcomes {
			var runID *string
			if outcome.RunID != "" {
				runID = &outcome.RunID
			}
			if _, err := tx.Exec(ctx, scheduleOutcomeInsertSQL, params.Name, outcome.Tick.UTC(), string(outcome.Decision),
				runID, store.StorableText(outcome.Reason), decidedAt); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, scheduleOutcomesTrimSQL, params.Name, store.ScheduleOutcomesKept); err != nil {
			return err
		}
		advanced = true
		return nil
	})
	return advanced, err
}

// scheduleRow is a row of the schedules table.
type scheduleRow struct {
	Name      string     `db:"name"`
	Workflow  string     `db:"workflow"`
	Cron      string     `db:"cron"`
	TimeZone  string     `db:"time_zone"`
	Input     []byte     `db:"input"`
	CatchUp   string     `db:"catch_up"`
	Paused    bool       `db:"paused"`
	NextTick  time.Time  `db:"next_tick"`
	LastTick  *time.Time `db:"last_tick"`
	Source    string     `db:"source"`
	CreatedAt time.Time  `db:"created_at"`
	UpdatedAt time.Time  `db:"updated_at"`
}

func querySchedules(ctx context.Context, q querier, keys *store.Keyring, query string, args ...any) ([]*klaxontype.Schedule, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[scheduleRow])
	if err != nil {
		return nil, err
	}
	schedules := make([]*klaxontype.Schedule, len(found))
	for i, r := range found {
		input, err := openColumn(keys, "input", r.Input)
		if err != nil {
			return nil, err
		}
		schedules[i] = &klaxontype.Schedule{
			Name: r.Name, Workflow: r.Workflow, Cron: r.Cron, TimeZone: r.TimeZone, Input: input,
			CatchUp: klaxontype.CatchUp(r.CatchUp), Paused: r.Paused, NextTick: r.NextTick.UTC(),
			Source: r.Source, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		}
		if r.LastTick != nil {
			schedules[i].LastTick = r.LastTick.UTC()
		}
	}
	return schedules, nil
}

// outcomeRow is a decision with its run's status.
type outcomeRow struct {
	Tick      time.Time `db:"tick"`
	Decision  string    `db:"decision"`
	RunID     *string   `db:"run_id"`
	RunStatus *string   `db:"run_status"`
	Reason    string    `db:"reason"`
	DecidedAt time.Time `db:"decided_at"`
}

// readOutcomes sets a schedule's latest limit decisions, none for zero.
func readOutcomes(ctx context.Context, q querier, schedule *klaxontype.Schedule, limit int) error {
	if limit == 0 {
		return nil
	}
	rows, err := q.Query(ctx, scheduleOutcomesListSQL, schedule.Name, limit)
	if err != nil {
		return err
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByName[outcomeRow])
	if err != nil {
		return err
	}
	schedule.Outcomes = make([]*klaxontype.ScheduleOutcome, len(found))
	for i, r := range found {
		outcome := &klaxontype.ScheduleOutcome{
			Tick: r.Tick.UTC(), Decision: klaxontype.ScheduleDecision(r.Decision), Reason: r.Reason, DecidedAt: r.DecidedAt.UTC(),
		}
		if r.RunID != nil {
			outcome.RunID = *r.RunID
		}
		if r.RunStatus != nil {
			outcome.RunStatus = klaxontype.RunStatus(*r.RunStatus)
		}
		schedule.Outcomes[i] = outcome
	}
	return nil
}
