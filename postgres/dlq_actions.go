package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// The actions on an entry refuse by returning their error from the
// transaction, which rolls back whatever the action wrote before it found the
// problem: a refused action changes nothing.

// invalid is a refused request, with a message that names the problem.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", klaxontype.ErrInvalid, fmt.Sprintf(format, args...))
}

// openEntry locks an entry that must still be open, until the transaction
// ends: of concurrent actions on one entry, the first acts and the others
// wait, then find it closed.
func openEntry(ctx context.Context, tx pgx.Tx, id string) (*klaxontype.DeadLetter, error) {
	entry, err := readDeadLetter(ctx, tx, dlqLockSQL, id, false)
	if err != nil {
		return nil, err
	}
	if entry.State != klaxontype.DeadLetterOpen {
		detail := ""
		if entry.ClosedBy != "" {
			detail = fmt.Sprintf(" by %s at %s", entry.ClosedBy, entry.ClosedAt.Format(time.RFC3339))
		}
		if entry.ReplayRunID != "" {
			detail += " as run " + entry.ReplayRunID
		}
		return nil, fmt.Errorf("dead-letter entry %s was %s%s: %w", id, entry.State, detail, klaxontype.ErrEntryNotOpen)
	}
	return entry, nil
}

// closeEntry moves an open entry to its final state.
func closeEntry(ctx context.Context, tx pgx.Tx, id string, state klaxontype.DeadLetterState, actor string, at time.Time, reason string, mode klaxontype.ReplayMode, replayRunID string) error {
	_, err := tx.Exec(ctx, dlqEntryCloseSQL, id, string(state), actor, at, nullIfEmpty(reason),
		nullIfEmpty(string(mode)), nullIfEmpty(replayRunID))
	return err
}

// DLQReplay replays an open entry's run in the mode asked for.
func (s *Store) DLQReplay(ctx context.Context, params *store.DLQReplayParams) (*klaxontype.DeadLetter, error) {
	if !params.Mode.Valid() {
		return nil, fmt.Errorf("%w: replay mode %q is not resume, from-step or restart", klaxontype.ErrInvalid, params.Mode)
	}
	if params.Input != nil && !json.Valid(params.Input) {
		return nil, fmt.Errorf("%w: the replacement input is not valid JSON", klaxontype.ErrInvalid)
	}
	if params.Mode == klaxontype.ReplayRestart && params.NewRunID == "" {
		return nil, fmt.Errorf("%w: a restart needs the new run's ID", klaxontype.ErrInvalid)
	}
	var replayed *klaxontype.DeadLetter
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		entry, err := openEntry(ctx, tx, params.EntryID)
		if err != nil {
			return err
		}
		t := now()
		var input any
		if params.Input != nil {
			input = params.Input
		}
		replayRunID, message := entry.RunID, string(params.Mode)
		switch params.Mode {
		case klaxontype.ReplayRestart:
			if err := restartRun(ctx, tx, entry, params, input, t); err != nil {
				return err
			}
			replayRunID, message = params.NewRunID, "restart as run "+params.NewRunID
		case klaxontype.ReplayResume, klaxontype.ReplayFromStep:
			// Resume keeps the whole log, steps after the failed one included.
			keepBefore, generation := 1<<31-1, 0
			if params.Mode == klaxontype.ReplayFromStep {
				seq, err := stepSeq(ctx, tx, entry, params.Step)
				if err != nil {
					return err
				}
				keepBefore, generation, message = seq, 1, fmt.Sprintf("from step %d %q", seq, params.Step)
			}
			if err := checkNothingUndone(ctx, tx, entry.RunID, keepBefore); err != nil {
				return err
			}
			if params.Mode == klaxontype.ReplayFromStep {
				if _, err := tx.Exec(ctx, stepsArchiveFromSQL, entry.RunID, keepBefore, t, params.Actor); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, stepsDeleteFromSQL, entry.RunID, keepBefore); err != nil {
					return err
				}
			}
			if err := reopenRun(ctx, tx, entry.RunID, input, generation, t); err != nil {
				return err
			}
		}
		if params.Input != nil {
			message += ", with edited input"
		}
		if err := closeEntry(ctx, tx, entry.ID, klaxontype.DeadLetterReplayed, params.Actor, t, "", params.Mode, replayRunID); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, &klaxontype.Event{
			RunID: entry.RunID, Type: klaxontype.EventDLQReplayed, Actor: params.Actor, At: t,
			Message: fmt.Sprintf("entry %s replayed: %s", entry.ID, message),
		}); err != nil {
			return err
		}
		if err := notifyRuns(ctx, tx, entry.Workflow); err != nil {
			return err
		}
		replayed, err = getDeadLetter(ctx, tx, entry.ID, false)
		return err
	})
	return replayed, err
}

// stepSeq finds the sequence number of the step a from-step replay starts
// at: the first step of that name in the log, or the failed step itself.
func stepSeq(ctx context.Context, tx pgx.Tx, entry *klaxontype.DeadLetter, name string) (int, error) {
	if name == "" {
		return 0, invalid("a from-step replay needs the step to start from")
	}
	steps, err := collectSteps(tx.Query(ctx, stepListSQL, entry.RunID))
	if err != nil {
		return 0, err
	}
	names := make([]string, 0, len(steps))
	for _, step := range steps {
		if step.Name == name {
			return step.Seq, nil
		}
		names = append(names, step.Name)
	}
	if entry.Step != nil && entry.Step.Name == name {
		return entry.Step.Seq, nil
	}
	return 0, invalid("step %q is not in the step log of run %s (steps: %v)", name, entry.RunID, names)
}

// checkNothingUndone refuses to keep steps whose compensation ran.
func checkNothingUndone(ctx context.Context, tx pgx.Tx, runID string, before int) error {
	var undone int
	if err := tx.QueryRow(ctx, stepsUndoneBeforeSQL, runID, before).Scan(&undone); err != nil {
		return err
	}
	if undone > 0 {
		return invalid("run %s had %d steps compensated; resuming would build on undone work: replay with restart", runID, undone)
	}
	return nil
}

func reopenRun(ctx context.Context, tx pgx.Tx, runID string, input any, generation int, t time.Time) error {
	tag, err := tx.Exec(ctx, runReplaySQL, runID, t, input, generation)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return invalid("run %s is not dead", runID)
	}
	return nil
}

func restartRun(ctx context.Context, tx pgx.Tx, entry *klaxontype.DeadLetter, params *store.DLQReplayParams, input any, t time.Time) error {
	_, err := collectRun(tx.Query(ctx, runRestartInsertSQL, params.NewRunID, input, t, entry.RunID))
	if errors.Is(err, klaxontype.ErrNotFound) {
		return invalid("run %s of entry %s no longer exists", entry.RunID, entry.ID)
	}
	if err != nil {
		return err
	}
	return insertEvent(ctx, tx, &klaxontype.Event{
		RunID: params.NewRunID, Type: klaxontype.EventRunEnqueued, Actor: params.Actor, At: t,
		Message: fmt.Sprintf("restart of dead run %s (entry %s)", entry.RunID, entry.ID),
	})
}

// DLQResolve records a person's output for the failed step and lets the run
// continue from there.
func (s *Store) DLQResolve(ctx context.Context, params *store.DLQResolveParams) (*klaxontype.DeadLetter, error) {
	if !json.Valid(params.Output) {
		return nil, fmt.Errorf("%w: the output is not valid JSON", klaxontype.ErrInvalid)
	}
	var resolved *klaxontype.DeadLetter
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		entry, err := openEntry(ctx, tx, params.EntryID)
		if err != nil {
			return err
		}
		if entry.Step == nil {
			return invalid("entry %s failed outside any step (%s); there is no step output to supply: replay it instead", entry.ID, entry.Class)
		}
		if params.Step != entry.Step.Name {
			return invalid("entry %s failed in step %q, not %q", entry.ID, entry.Step.Name, params.Step)
		}
		if err := checkNothingUndone(ctx, tx, entry.RunID, entry.Step.Seq); err != nil {
			return err
		}
		t := now()
		tag, err := tx.Exec(ctx, stepResolveInsertSQL, entry.RunID, entry.Step.Seq, entry.Step.Name,
			params.IdempotencyKey, params.Output, t, params.Actor)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			// A nondeterminism failure names a step whose sequence number the
			// log already holds under another name.
			return invalid("run %s already has step %d in its log; a resolve cannot overwrite it: replay from step %q instead",
				entry.RunID, entry.Step.Seq, entry.Step.Name)
		}
		if err := reopenRun(ctx, tx, entry.RunID, nil, 0, t); err != nil {
			return err
		}
		if err := closeEntry(ctx, tx, entry.ID, klaxontype.DeadLetterResolved, params.Actor, t, "", "", ""); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, &klaxontype.Event{
			RunID: entry.RunID, Type: klaxontype.EventDLQResolved, Actor: params.Actor, At: t,
			Step: entry.Step.Name, StepSeq: entry.Step.Seq,
			Message: fmt.Sprintf("entry %s resolved: output of step %q supplied by hand; the run continues", entry.ID, entry.Step.Name),
		}); err != nil {
			return err
		}
		if err := notifyRuns(ctx, tx, entry.Workflow); err != nil {
			return err
		}
		resolved, err = getDeadLetter(ctx, tx, entry.ID, false)
		return err
	})
	return resolved, err
}

// DLQDiscard closes an open entry without action.
func (s *Store) DLQDiscard(ctx context.Context, params *store.DLQDiscardParams) (*klaxontype.DeadLetter, error) {
	if params.Reason == "" {
		return nil, fmt.Errorf("%w: discarding an entry needs a reason", klaxontype.ErrInvalid)
	}
	var discarded *klaxontype.DeadLetter
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		entry, err := openEntry(ctx, tx, params.EntryID)
		if err != nil {
			return err
		}
		t := now()
		if err := closeEntry(ctx, tx, entry.ID, klaxontype.DeadLetterDiscarded, params.Actor, t, params.Reason, "", ""); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, &klaxontype.Event{
			RunID: entry.RunID, Type: klaxontype.EventDLQDiscarded, Actor: params.Actor, At: t,
			Message: fmt.Sprintf("entry %s discarded: %s", entry.ID, params.Reason),
		}); err != nil {
			return err
		}
		discarded, err = getDeadLetter(ctx, tx, entry.ID, false)
		return err
	})
	return discarded, err
}

// DLQPurge deletes matching entries and their notifications, and records
// who purged which.
func (s *Store) DLQPurge(ctx context.Context, params *store.DLQPurgeParams) (int, error) {
	if params.Actor == "" {
		return 0, fmt.Errorf("%w: a purge needs an actor", klaxontype.ErrInvalid)
	}
	// Every filter given narrows the purge, the cursor and a limit included:
	// ignoring one would delete entries the caller did not select. Only a zero
	// limit, which lists 100, purges every match.
	filter := params.Filter
	if filter.Limit <= 0 {
		filter.Limit = 1 << 30
	}
	query, args := dlqListQuery(&filter)
	filterJSON, err := json.Marshal(params.Filter)
	if err != nil {
		return 0, err
	}
	purged := 0
	err = s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		entries, err := collectDeadLetters(tx.Query(ctx, query, args...))
		if err != nil {
			return err
		}
		purged = len(entries)
		if purged == 0 {
			return nil
		}
		ids := make([]string, len(entries))
		for i, entry := range entries {
			ids[i] = entry.ID
		}
		idsJSON, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, outboxDeleteEntriesSQL, ids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, dlqDeleteSQL, ids); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, dlqPurgeRecordSQL, params.Actor, now(), string(filterJSON), purged, string(idsJSON))
		return err
	})
	return purged, err
}
