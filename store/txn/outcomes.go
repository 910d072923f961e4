package txn

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunFail records a failed attempt of a held run and moves it to Next:
// retrying (after RetryAt), compensating (keeping the lease), or dead with its
// dead-letter entry and the entry's notification, in one transaction, so that
// a crash cannot leave a dead run without an entry, or an entry nobody is told
// of. A holder that lost the run is refused with klaxontype.ErrLeaseLost, and
// the refusal is recorded as duplicate.suppressed.
func (r Rules) RunFail(ctx context.Context, params *store.RunFailParams) error {
	if err := params.Validate(); err != nil {
		return err
	}
	// A failure's text comes from programs and providers that may say
	// anything; it is recorded with what no store can keep replaced, never
	// refused, or the outcome would be lost with the lease.
	params = params.Storable()
	// The record is encoded here, on the caller's goroutine, not in the
	// transaction that other writes wait for.
	record, err := encodeRecord(params.Record)
	if err != nil {
		return err
	}
	var refused error
	err = r.batch(ctx, func(ctx context.Context, tx Tx) error {
		refused = nil
		t := r.now()
		workflow, held, err := tx.RunFailUpdate(ctx, params, t)
		if err != nil {
			return err
		}
		if !held {
			refused, err = suppress(ctx, tx, params.Lease, params.Holder, t, "failure of attempt", "", 0, klaxontype.ErrLeaseLost)
			return err
		}
		if params.Next == klaxontype.RunStatusDead {
			if err := tx.DeadLetterInsert(ctx, params.RunID, params.DeadLetter, t); err != nil {
				return err
			}
			if err := childEnded(ctx, tx, params.RunID, klaxontype.RunStatusDead, nil, t); err != nil {
				return err
			}
		}
		if a := params.Attempt; a != nil {
			if err := tx.AttemptInsert(ctx, a); err != nil {
				return err
			}
			if err := tx.EventInsert(ctx, &klaxontype.Event{
				RunID: params.RunID, Type: klaxontype.EventStepFailed, Actor: params.Holder, At: t,
				Step: a.Step, StepSeq: a.StepSeq,
				Message: fmt.Sprintf("attempt %d failed (%s, by %s): %s", a.Attempt, a.Class, a.ClassifiedBy, a.Message),
			}, nil); err != nil {
				return err
			}
		}
		next := &klaxontype.Event{RunID: params.RunID, Actor: params.Holder, At: t}
		failure := params.Failure
		switch params.Next {
		case klaxontype.RunStatusRetrying:
			next.Type = klaxontype.EventRetryScheduled
			next.Message = fmt.Sprintf("retry at %s", params.RetryAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
			// Idle workers of other processes learn of a retry by polling; a
			// retry due now wakes them at once.
			if workflow != "" && !params.RetryAt.After(t) {
				if err := tx.RunsAvailable(ctx, workflow); err != nil {
					return err
				}
			}
		case klaxontype.RunStatusCompensating:
			next.Type = klaxontype.EventRunCompensating
			next.Message = fmt.Sprintf("%s: %s", failure.Class, failure.Reason)
		case klaxontype.RunStatusDead:
			next.Type = klaxontype.EventRunDead
			next.Message = fmt.Sprintf("%s: %s", failure.Class, failure.Reason)
		}
		return tx.EventInsert(ctx, next, record)
	})
	if err != nil {
		return err
	}
	return refused
}

// StepCompensate records the outcome of a completed step's compensation by
// the holder of its compensating run. A compensation is recorded at most
// once: a step no longer completed keeps the first outcome, and a second is
// refused with klaxontype.ErrStepExists.
func (r Rules) StepCompensate(ctx context.Context, params *store.StepCompensateParams) error {
	if storable := store.StorableText(params.Error); storable != params.Error {
		copied := *params
		copied.Error = storable
		params = &copied
	}
	var refused error
	err := r.batch(ctx, func(ctx context.Context, tx Tx) error {
		refused = nil
		t := r.now()
		held, err := tx.RunHeld(ctx, params.Lease, params.Holder, klaxontype.RunStatusCompensating)
		if err != nil {
			return err
		}
		if !held {
			refused, err = suppress(ctx, tx, params.Lease, params.Holder, t, "compensation", "", params.Seq, klaxontype.ErrLeaseLost)
			return err
		}
		status, eventType, message := klaxontype.StepStatusCompensated, klaxontype.EventCompensationCompleted, ""
		if params.Error != "" {
			status, eventType, message = klaxontype.StepStatusCompensationFailed, klaxontype.EventCompensationFailed, params.Error
		}
		at := params.At
		if at.IsZero() {
			at = t
		}
		name, err := tx.StepCompensate(ctx, params, status, at)
		if err != nil {
			return err
		}
		if name == "" {
			refused = fmt.Errorf("compensation of step %d of run %s: %w", params.Seq, params.RunID, klaxontype.ErrStepExists)
			return nil
		}
		return tx.EventInsert(ctx, &klaxontype.Event{
			RunID: params.RunID, Type: eventType, Actor: params.Holder, At: t, Step: name, StepSeq: params.Seq, Message: message,
		}, nil)
	})
	if err != nil {
		return err
	}
	return refused
}

// StepFailuresRecord writes a step.failed event for each step failure the
// workflow body handled, in the words RunFail uses for an attempt's own, and
// marked as handled. A holder that lost the run writes nothing: its attempt's
// outcome will be refused and recorded as duplicate.suppressed.
func (r Rules) StepFailuresRecord(ctx context.Context, params *store.StepFailuresRecordParams) error {
	if len(params.Failures) == 0 {
		return nil
	}
	refused := false
	err := r.batch(ctx, func(ctx context.Context, tx Tx) error {
		t := r.now()
		held, err := tx.RunHeld(ctx, params.Lease, params.Holder, klaxontype.RunStatusRunning)
		if err != nil {
			return err
		}
		refused = !held
		if refused {
			return nil
		}
		for _, f := range params.Failures {
			if err := tx.EventInsert(ctx, &klaxontype.Event{
				RunID: params.RunID, Type: klaxontype.EventStepFailed, Actor: params.Holder, At: t,
				Step: store.StorableText(f.Name), StepSeq: f.Seq,
				// The message is a provider's or a library's text: stored
				// whatever its bytes, as a failure reason is.
				Message: store.StorableText(fmt.Sprintf("attempt %d: step failed (%s, by %s), handled by the workflow: %s", params.Attempt, f.Class, f.ClassifiedBy, f.Message)),
			}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if refused {
		return fmt.Errorf("step failures of run %s: %w", params.RunID, klaxontype.ErrLeaseLost)
	}
	return nil
}

// SpendRecordLate records spend reported after a step's deadline: a
// spend.late event, and the spend on the run and its attempt unless the
// attempt's outcome carries it. It is not fenced: late spend is real money
// whoever holds the run now.
func (r Rules) SpendRecordLate(ctx context.Context, params *store.SpendRecordLateParams) error {
	return r.batch(ctx, func(ctx context.Context, tx Tx) error {
		where := "counted with its attempt"
		if !params.Counted {
			if err := tx.RunAddSpend(ctx, params.RunID, params.Spend); err != nil {
				return err
			}
			found, err := tx.AttemptAddSpend(ctx, params.RunID, params.Attempt, params.Spend)
			if err != nil {
				return err
			}
			where = "added to the run's totals and to its failed attempt"
			if !found {
				where = "added to the run's totals"
			}
		}
		return tx.EventInsert(ctx, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventSpendLate, Actor: params.Holder, At: r.now(),
			Step: params.Step, StepSeq: params.Seq,
			Message: fmt.Sprintf("attempt %d: %d tokens, %s, in %d model calls reported after the step's deadline; %s",
				params.Attempt, params.Spend.Usage.Total(), params.Spend.Cost, params.Spend.ModelCalls, where),
		}, nil)
	})
}

// suppress records a write refused because its holder no longer holds the
// run, as a duplicate.suppressed event, and returns the refusal for the
// caller.
func suppress(ctx context.Context, tx Tx, lease store.Lease, holder string, at time.Time, what, step string, seq int, cause error) (refusal, err error) {
	err = tx.EventInsert(ctx, &klaxontype.Event{
		RunID: lease.RunID, Type: klaxontype.EventDuplicateSuppressed, Actor: holder, At: at,
		Step: step, StepSeq: seq,
		Message: SuppressedMessage(what, lease.Epoch, cause),
	}, nil)
	return fmt.Errorf("%s of run %s: %w", what, lease.RunID, cause), err
}

// SuppressedMessage is the message of a duplicate.suppressed event: what a
// stale holder tried, at which epoch, and why it was refused. Stores that
// record suppressions in statements of their own use it too.
func SuppressedMessage(what string, epoch int64, cause error) string {
	return fmt.Sprintf("%s at epoch %d rejected: %v", what, epoch, cause)
}

// encodeRecord encodes a completion record for the events table; nil stays
// nil.
func encodeRecord(record *klaxontype.CompletionRecord) ([]byte, error) {
	if record == nil {
		return nil, nil
	}
	encoded, err := json.Marshal(record)
	if err != nil {
		return nil, fmt.Errorf("encoding the completion record: %w", err)
	}
	return encoded, nil
}
