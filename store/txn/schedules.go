package txn

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// ScheduleSave creates a schedule, or with Replace updates its definition; a
// person's change is in the audit log, in the change's transaction.
func (r Rules) ScheduleSave(ctx context.Context, params *store.ScheduleSaveParams) (*klaxontype.Schedule, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var saved *klaxontype.Schedule
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		at := r.now()
		written, err := tx.ScheduleWrite(ctx, params, at)
		if err != nil {
			return err
		}
		if !written {
			return store.ScheduleExists(params.Name)
		}
		if err := auditSchedule(ctx, tx, params.AuditRecord(at)); err != nil {
			return err
		}
		saved, err = tx.ScheduleGet(ctx, params.Name)
		return err
	})
	return saved, err
}

// SchedulePause pauses or resumes a schedule; a person's change is in the
// audit log, in the change's transaction.
func (r Rules) SchedulePause(ctx context.Context, params *store.SchedulePauseParams) (*klaxontype.Schedule, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var paused *klaxontype.Schedule
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		at := r.now()
		found, err := tx.SchedulePause(ctx, params, at)
		if err != nil {
			return err
		}
		if !found {
			return store.ScheduleNotFound(params.Name)
		}
		if err := auditSchedule(ctx, tx, params.AuditRecord(at)); err != nil {
			return err
		}
		paused, err = tx.ScheduleGet(ctx, params.Name)
		return err
	})
	return paused, err
}

// ScheduleDelete deletes a schedule and its decisions; the runs it started
// stay. A person's change is in the audit log, in the change's transaction.
func (r Rules) ScheduleDelete(ctx context.Context, params *store.ScheduleDeleteParams) error {
	if err := params.Validate(); err != nil {
		return err
	}
	return r.transact(ctx, func(ctx context.Context, tx Tx) error {
		found, err := tx.ScheduleDelete(ctx, params.Name)
		if err != nil {
			return err
		}
		if !found {
			return store.ScheduleNotFound(params.Name)
		}
		return auditSchedule(ctx, tx, params.AuditRecord(r.now()))
	})
}

// ScheduleAdvance records the decisions of a schedule's ticks and moves its
// next tick, only if no other process moved it from params.From first; the
// schedule keeps its latest store.ScheduleOutcomesKept decisions.
func (r Rules) ScheduleAdvance(ctx context.Context, params *store.ScheduleAdvanceParams) (bool, error) {
	if err := params.Validate(); err != nil {
		return false, err
	}
	advanced := false
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		advanced = false
		moved, err := tx.ScheduleMoveTick(ctx, params)
		if err != nil || !moved {
			return err
		}
		at := r.now()
		for _, outcome := range params.Outcomes {
			if err := tx.ScheduleOutcomeInsert(ctx, params.Name, outcome, at); err != nil {
				return err
			}
		}
		if err := tx.ScheduleOutcomesTrim(ctx, params.Name, store.ScheduleOutcomesKept); err != nil {
			return err
		}
		advanced = true
		return nil
	})
	return advanced, err
}

// auditSchedule records a person's change of a schedule; a change without an
// actor (a declaration in code) records nothing.
func auditSchedule(ctx context.Context, tx Tx, record *klaxontype.AuditRecord) error {
	if record == nil {
		return nil
	}
	return tx.AuditInsert(ctx, record)
}
