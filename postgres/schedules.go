package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

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

// The schedule primitives the rules of txn are written over.

func (t *tx) ScheduleWrite(ctx context.Context, params *store.ScheduleSaveParams, at time.Time) (bool, error) {
	query := scheduleInsertSQL
	if params.Replace {
		query = scheduleReplaceSQL
	}
	tag, err := t.tx.Exec(ctx, query, params.Name, params.Workflow, params.Cron, params.TimeZone,
		t.keys.Seal(params.StoredInput()), string(params.CatchUp), params.Source, params.NextTick.UTC(), at)
	return err == nil && tag.RowsAffected() > 0, err
}

func (t *tx) SchedulePause(ctx context.Context, params *store.SchedulePauseParams, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, schedulePauseSQL, params.Name, params.Paused, params.NextTick.UTC(), at)
	return err == nil && tag.RowsAffected() > 0, err
}

func (t *tx) ScheduleDelete(ctx context.Context, name string) (bool, error) {
	if _, err := t.tx.Exec(ctx, scheduleOutcomesDeleteSQL, name); err != nil {
		return false, err
	}
	tag, err := t.tx.Exec(ctx, scheduleDeleteSQL, name)
	return err == nil && tag.RowsAffected() > 0, err
}

func (t *tx) ScheduleGet(ctx context.Context, name string) (*klaxontype.Schedule, error) {
	schedules, err := querySchedules(ctx, t.tx, t.keys, scheduleGetSQL, name)
	if err != nil {
		return nil, err
	}
	if len(schedules) == 0 {
		return nil, store.ScheduleNotFound(name)
	}
	return schedules[0], nil
}

func (t *tx) ScheduleMoveTick(ctx context.Context, params *store.ScheduleAdvanceParams) (bool, error) {
	tag, err := t.tx.Exec(ctx, scheduleAdvanceSQL, params.Name, params.From.UTC(), params.NextTick.UTC(), params.LastTick().UTC())
	return err == nil && tag.RowsAffected() > 0, err
}

func (t *tx) ScheduleOutcomeInsert(ctx context.Context, name string, outcome *klaxontype.ScheduleOutcome, at time.Time) error {
	var runID *string
	if outcome.RunID != "" {
		runID = &outcome.RunID
	}
	_, err := t.tx.Exec(ctx, scheduleOutcomeInsertSQL, name, outcome.Tick.UTC(), string(outcome.Decision),
		runID, store.StorableText(outcome.Reason), at)
	return err
}

func (t *tx) ScheduleOutcomesTrim(ctx context.Context, name string, kept int) error {
	_, err := t.tx.Exec(ctx, scheduleOutcomesTrimSQL, name, kept)
	return err
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
