package txn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// invalid is a refused request, with a message that names the problem.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", klaxontype.ErrInvalid, fmt.Sprintf(format, args...))
}

// openEntry locks an entry that must still be open: of concurrent actions on
// one entry, the first acts and the others find it closed.
func openEntry(ctx context.Context, tx Tx, id string) (*klaxontype.DeadLetter, error) {
	entry, err := tx.DeadLetterLock(ctx, id)
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

// DLQReplay replays an open entry's run in the mode asked for and marks the
// entry replayed, in one transaction.
func (r Rules) DLQReplay(ctx context.Context, params *store.DLQReplayParams) (*klaxontype.DeadLetter, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var replayed *klaxontype.DeadLetter
	err := r.transact(ctx, func(ctx context.Context, tx Tx) (err error) {
		replayed, err = replay(ctx, tx, params, r.now())
		return err
	})
	return replayed, err
}

func replay(ctx context.Context, tx Tx, params *store.DLQReplayParams, t time.Time) (*klaxontype.DeadLetter, error) {
	entry, err := openEntry(ctx, tx, params.EntryID)
	if err != nil {
		return nil, err
	}
	replayRunID, message := entry.RunID, string(params.Mode)
	switch params.Mode {
	case klaxontype.ReplayRestart:
		if err := restartRun(ctx, tx, entry, params, t); err != nil {
			return nil, err
		}
		replayRunID, message = params.NewRunID, "restart as run "+params.NewRunID
	case klaxontype.ReplayResume, klaxontype.ReplayFromStep:
		// Resume keeps the whole log, steps after the failed one included.
		keepBefore := keepAll
		if params.Mode == klaxontype.ReplayFromStep {
			if keepBefore, err = stepSeq(ctx, tx, entry, params.Step); err != nil {
				return nil, err
			}
			message = fmt.Sprintf("from step %d %q", keepBefore, params.Step)
		}
		if err := checkNothingUndone(ctx, tx, entry.RunID, keepBefore); err != nil {
			return nil, err
		}
		if params.Mode == klaxontype.ReplayFromStep {
			if err := tx.StepsArchive(ctx, entry.RunID, keepBefore, params.Actor, t); err != nil {
				return nil, err
			}
		}
		// A wait that timed out, or one the replay runs again, begins
		// afresh, with a new deadline.
		if err := tx.WaitsReopen(ctx, entry.RunID, keepBefore); err != nil {
			return nil, err
		}
		if err := reopenRun(ctx, tx, &RunReopenParams{
			ID: entry.RunID, Input: params.Input, NewGeneration: params.Mode == klaxontype.ReplayFromStep,
			Budget: params.Budget, At: t,
		}); err != nil {
			return nil, err
		}
	}
	if params.Input != nil {
		message += ", with edited input"
	}
	if b := params.Budget; b != nil {
		message += ", with a new budget of " + describeBudget(b)
	}
	if err := tx.DeadLetterClose(ctx, &DeadLetterCloseParams{
		ID: entry.ID, State: klaxontype.DeadLetterReplayed, Actor: params.Actor, At: t,
		Mode: params.Mode, ReplayRunID: replayRunID,
	}); err != nil {
		return nil, err
	}
	if err := tx.EventInsert(ctx, &klaxontype.Event{
		RunID: entry.RunID, Type: klaxontype.EventDLQReplayed, Actor: params.Actor, At: t,
		Message: fmt.Sprintf("entry %s replayed: %s", entry.ID, message),
	}, nil); err != nil {
		return nil, err
	}
	if err := tx.RunsAvailable(ctx, entry.Workflow); err != nil {
		return nil, err
	}
	if err := audit(ctx, tx, t, params.Actor, klaxontype.AuditDLQReplay, entry.ID, map[string]any{
		"mode": params.Mode, "step": params.Step, "edited_input": params.Input != nil, "run": entry.RunID,
		"budget": params.Budget,
	}, "replayed: "+message+"; the run is "+replayRunID); err != nil {
		return nil, err
	}
	return tx.DeadLetterGet(ctx, entry.ID)
}

// keepAll is past every sequence number a step log can hold: keeping the steps
// before it keeps them all.
const keepAll = 1<<31 - 1

// stepSeq finds the sequence number of the step a from-step replay starts
// at: the first step of that name in the log, or the failed step itself.
func stepSeq(ctx context.Context, tx Tx, entry *klaxontype.DeadLetter, name string) (int, error) {
	if name == "" {
		return 0, invalid("a from-step replay needs the step to start from")
	}
	steps, err := tx.StepList(ctx, entry.RunID)
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
func checkNothingUndone(ctx context.Context, tx Tx, runID string, before int) error {
	undone, err := tx.StepCountCompensated(ctx, runID, before)
	if err != nil {
		return err
	}
	if undone > 0 {
		return invalid("run %s had %d steps compensated; resuming would build on undone work: replay with restart", runID, undone)
	}
	return nil
}

func reopenRun(ctx context.Context, tx Tx, params *RunReopenParams) error {
	reopened, err := tx.RunReopen(ctx, params)
	if err != nil {
		return err
	}
	if !reopened {
		return invalid("run %s is not dead", params.ID)
	}
	return nil
}

func restartRun(ctx context.Context, tx Tx, entry *klaxontype.DeadLetter, params *store.DLQReplayParams, t time.Time) error {
	created, err := tx.RunRestart(ctx, &RunRestartParams{NewID: params.NewRunID, FromID: entry.RunID, Input: params.Input, Budget: params.Budget, At: t})
	if err != nil {
		return err
	}
	if !created {
		return invalid("run %s of entry %s no longer exists", entry.RunID, entry.ID)
	}
	return tx.EventInsert(ctx, &klaxontype.Event{
		RunID: params.NewRunID, Type: klaxontype.EventRunEnqueued, Actor: params.Actor, At: t,
		Message: fmt.Sprintf("restart of dead run %s (entry %s)", entry.RunID, entry.ID),
	}, nil)
}

// DLQResolve records a person's output for the failed step as completed,
// lets the run continue from there, and marks the entry resolved.
func (r Rules) DLQResolve(ctx context.Context, params *store.DLQResolveParams) (*klaxontype.DeadLetter, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var resolved *klaxontype.DeadLetter
	err := r.transact(ctx, func(ctx context.Context, tx Tx) (err error) {
		resolved, err = resolve(ctx, tx, params, r.now())
		return err
	})
	return resolved, err
}

func resolve(ctx context.Context, tx Tx, params *store.DLQResolveParams, t time.Time) (*klaxontype.DeadLetter, error) {
	entry, err := openEntry(ctx, tx, params.EntryID)
	if err != nil {
		return nil, err
	}
	if entry.Step == nil {
		return nil, invalid("entry %s failed outside any step (%s); there is no step output to supply: replay it instead", entry.ID, entry.Class)
	}
	if params.Step != entry.Step.Name {
		return nil, invalid("entry %s failed in step %q, not %q", entry.ID, entry.Step.Name, params.Step)
	}
	if err := checkNothingUndone(ctx, tx, entry.RunID, entry.Step.Seq); err != nil {
		return nil, err
	}
	inserted, err := tx.StepResolve(ctx, &StepResolveParams{
		RunID: entry.RunID, Seq: entry.Step.Seq, Name: entry.Step.Name, IdempotencyKey: params.IdempotencyKey,
		Output: params.Output, Actor: params.Actor, At: t,
	})
	if err != nil {
		return nil, err
	}
	if !inserted {
		// A nondeterminism failure names a step whose sequence number the
		// log already holds under another name.
		return nil, invalid("run %s already has step %d in its log; a resolve cannot overwrite it: replay from step %q instead",
			entry.RunID, entry.Step.Seq, entry.Step.Name)
	}
	if err := reopenRun(ctx, tx, &RunReopenParams{ID: entry.RunID, At: t}); err != nil {
		return nil, err
	}
	if err := tx.DeadLetterClose(ctx, &DeadLetterCloseParams{
		ID: entry.ID, State: klaxontype.DeadLetterResolved, Actor: params.Actor, At: t,
	}); err != nil {
		return nil, err
	}
	if err := tx.EventInsert(ctx, &klaxontype.Event{
		RunID: entry.RunID, Type: klaxontype.EventDLQResolved, Actor: params.Actor, At: t,
		Step: entry.Step.Name, StepSeq: entry.Step.Seq,
		Message: fmt.Sprintf("entry %s resolved: output of step %q supplied by hand; the run continues", entry.ID, entry.Step.Name),
	}, nil); err != nil {
		return nil, err
	}
	if err := tx.RunsAvailable(ctx, entry.Workflow); err != nil {
		return nil, err
	}
	if err := audit(ctx, tx, t, params.Actor, klaxontype.AuditDLQResolve, entry.ID, map[string]any{
		"step": entry.Step.Name, "seq": entry.Step.Seq, "run": entry.RunID,
	}, fmt.Sprintf("output of step %q supplied; run %s continues", entry.Step.Name, entry.RunID)); err != nil {
		return nil, err
	}
	return tx.DeadLetterGet(ctx, entry.ID)
}

// DLQDiscard closes an open entry without action; the run stays dead.
func (r Rules) DLQDiscard(ctx context.Context, params *store.DLQDiscardParams) (*klaxontype.DeadLetter, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var discarded *klaxontype.DeadLetter
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		entry, err := openEntry(ctx, tx, params.EntryID)
		if err != nil {
			return err
		}
		t := r.now()
		if err := tx.DeadLetterClose(ctx, &DeadLetterCloseParams{
			ID: entry.ID, State: klaxontype.DeadLetterDiscarded, Actor: params.Actor, At: t, Reason: params.Reason,
		}); err != nil {
			return err
		}
		if err := tx.EventInsert(ctx, &klaxontype.Event{
			RunID: entry.RunID, Type: klaxontype.EventDLQDiscarded, Actor: params.Actor, At: t,
			Message: fmt.Sprintf("entry %s discarded: %s", entry.ID, params.Reason),
		}, nil); err != nil {
			return err
		}
		if err := audit(ctx, tx, t, params.Actor, klaxontype.AuditDLQDiscard, entry.ID, map[string]any{
			"reason": params.Reason, "run": entry.RunID,
		}, "discarded; run "+entry.RunID+" stays dead"); err != nil {
			return err
		}
		discarded, err = tx.DeadLetterGet(ctx, entry.ID)
		return err
	})
	return discarded, err
}

// DLQPurge deletes the matching entries and their notifications, and records
// who purged which.
func (r Rules) DLQPurge(ctx context.Context, params *store.DLQPurgeParams) (int, error) {
	if params.Actor == "" {
		return 0, invalid("a purge needs an actor")
	}
	if err := params.Filter.Validate(); err != nil {
		return 0, err
	}
	// Every filter given narrows the purge, the cursor and a limit included:
	// ignoring one would delete entries the caller did not select. Only a zero
	// limit, which lists 100, purges every match.
	filter := params.Filter
	if filter.Limit <= 0 {
		filter.Limit = 1 << 30
	}
	filterJSON, err := json.Marshal(params.Filter)
	if err != nil {
		return 0, err
	}
	purged := 0
	err = r.transact(ctx, func(ctx context.Context, tx Tx) error {
		entries, err := tx.DeadLetterList(ctx, &filter)
		if err != nil {
			return err
		}
		purged = len(entries)
		ids := make([]string, len(entries))
		for i, entry := range entries {
			ids[i] = entry.ID
		}
		t := r.now()
		if purged > 0 {
			if err := tx.DeadLettersDelete(ctx, ids); err != nil {
				return err
			}
			if err := tx.PurgeRecord(ctx, &PurgeRecordParams{Actor: params.Actor, At: t, Filter: filterJSON, IDs: ids}); err != nil {
				return err
			}
		}
		return audit(ctx, tx, t, params.Actor, klaxontype.AuditDLQPurge, "dead-letter queue", map[string]any{
			"filter": json.RawMessage(filterJSON), "entries": ids,
		}, fmt.Sprintf("purged %d entries", purged))
	})
	if err != nil {
		return 0, err
	}
	return purged, nil
}

// isNotFound reports an unknown row.
func isNotFound(err error) bool { return errors.Is(err, klaxontype.ErrNotFound) }

// describeBudget says a budget in words: its tokens, its cost, or both.
func describeBudget(b *klaxontype.Budget) string {
	switch {
	case b.Tokens > 0 && b.CostUSD > 0:
		return fmt.Sprintf("%d tokens and $%.4f", b.Tokens, b.CostUSD)
	case b.Tokens > 0:
		return fmt.Sprintf("%d tokens", b.Tokens)
	default:
		return fmt.Sprintf("$%.4f", b.CostUSD)
	}
}
