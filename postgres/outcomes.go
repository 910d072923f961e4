package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunComplete marks a held run completed with its output. It is queued for
// a writer, which completes every run of its batch with one statement.
func (s *Store) RunComplete(ctx context.Context, params *store.RunCompleteParams) error {
	// The record is encoded here, on the caller's goroutine, not by the
	// writer that batches every completion.
	record, err := encodeRecord(params.Record)
	if err != nil {
		return err
	}
	return s.writers.write(ctx, &writeRequest{complete: params, completeRecord: record})
}

// queueCompletions queues the completions of the batch's runs on b, and sets
// the result of each one refused when b's results are read.
func queueCompletions(b *pgx.Batch, batch []*writeRequest, results []error, ambiguous bool) {
	var (
		idx, modelCalls                                []int32
		runID, holder                                  []string
		epoch, inputTokens, outputTokens, cachedTokens []int64
		output                                         [][]byte
		costUSD                                        []float64
		costUnknown                                    []bool
		record                                         []*string
	)
	for i, req := range batch {
		p := req.complete
		if p == nil {
			continue
		}
		idx = append(idx, int32(i))
		runID = append(runID, p.RunID)
		epoch = append(epoch, p.Epoch)
		holder = append(holder, p.Holder)
		output = append(output, p.Output)
		inputTokens = append(inputTokens, p.Spend.Usage.InputTokens)
		outputTokens = append(outputTokens, p.Spend.Usage.OutputTokens)
		cachedTokens = append(cachedTokens, p.Spend.Usage.CachedTokens)
		costUSD = append(costUSD, p.Spend.Cost.USD)
		costUnknown = append(costUnknown, p.Spend.Cost.Unknown)
		modelCalls = append(modelCalls, int32(p.Spend.ModelCalls))
		record = append(record, req.completeRecord)
	}
	if len(idx) == 0 {
		return
	}
	b.Queue(runsCompleteSQL, idx, runID, epoch, holder, output, inputTokens, outputTokens, cachedTokens,
		costUSD, costUnknown, modelCalls, now(), ambiguous, klaxontype.ErrLeaseLost.Error(), record).
		Query(func(rows pgx.Rows) error {
			var i int32
			var accepted bool
			_, err := pgx.ForEachRow(rows, []any{&i, &accepted}, func() error {
				if !accepted {
					// The statement recorded the duplicate.suppressed event.
					results[i] = fmt.Errorf("completion of run %s: %w", batch[i].complete.RunID, klaxontype.ErrLeaseLost)
				}
				return nil
			})
			return err
		})
}

// RunFail records a failed attempt and moves the run to retrying,
// compensating or dead.
func (s *Store) RunFail(ctx context.Context, params *store.RunFailParams) error {
	failure := params.Failure
	if err := params.Validate(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	record, err := encodeRecord(params.Record)
	if err != nil {
		return err
	}
	retryNow := ""
	err = s.writers.writeFunc(ctx, func(ctx context.Context, tx pgx.Tx) error {
		t := now()
		retryNow = ""
		var rows pgx.Rows
		var err error
		switch params.Next {
		case klaxontype.RunStatusRetrying:
			rows, err = tx.Query(ctx, runRetrySQL, params.RunID, params.Epoch, params.Holder, params.RetryAt, t)
		case klaxontype.RunStatusCompensating:
			rows, err = tx.Query(ctx, runCompensatingSQL, params.RunID, params.Epoch, params.Holder,
				string(failure.Class), failure.Reason, nullIfEmpty(failure.Step), nullIfZero(failure.StepSeq), t)
		case klaxontype.RunStatusDead:
			rows, err = tx.Query(ctx, runDeadSQL, params.RunID, params.Epoch, params.Holder,
				string(failure.Class), failure.Reason, nullIfEmpty(failure.Step), nullIfZero(failure.StepSeq), t)
		}
		if err != nil {
			return err
		}
		workflows, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(workflows) == 0 {
			return suppress(ctx, tx, params.Lease, params.Holder, "failure of attempt", "", 0, klaxontype.ErrLeaseLost)
		}
		if params.Next == klaxontype.RunStatusDead {
			if err := insertDeadLetter(ctx, tx, params.RunID, params.DeadLetter, t); err != nil {
				return err
			}
		}
		if a := params.Attempt; a != nil {
			if err := insertAttempt(ctx, tx, a); err != nil {
				return err
			}
			err := insertEvent(ctx, tx, &klaxontype.Event{
				RunID: params.RunID, Type: klaxontype.EventStepFailed, Actor: params.Holder, At: t,
				Step: a.Step, StepSeq: a.StepSeq,
				Message: fmt.Sprintf("attempt %d failed (%s, by %s): %s", a.Attempt, a.Class, a.ClassifiedBy, a.Message),
			})
			if err != nil {
				return err
			}
		}
		next := &klaxontype.Event{RunID: params.RunID, Actor: params.Holder, At: t}
		switch params.Next {
		case klaxontype.RunStatusRetrying:
			next.Type = klaxontype.EventRetryScheduled
			next.Message = fmt.Sprintf("retry at %s", params.RetryAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
			// Other processes' idle workers wake when the retry is due only by
			// polling; a retry due now wakes them at once.
			if !params.RetryAt.After(t) {
				retryNow = workflows[0]
			}
		case klaxontype.RunStatusCompensating:
			next.Type = klaxontype.EventRunCompensating
			next.Message = fmt.Sprintf("%s: %s", failure.Class, failure.Reason)
		case klaxontype.RunStatusDead:
			next.Type = klaxontype.EventRunDead
			next.Message = fmt.Sprintf("%s: %s", failure.Class, failure.Reason)
		}
		return insertEventWithRecord(ctx, tx, next, record)
	})
	if err == nil && retryNow != "" {
		s.notifier.announce(retryNow)
	}
	return err
}

// insertDeadLetter creates the open entry of a run that just died, and its
// notification in the outbox, in the transaction that made it dead: a crash
// cannot leave a dead run without an entry, or an entry nobody is told of.
func insertDeadLetter(ctx context.Context, tx pgx.Tx, runID string, entry *store.DeadLetterParams, at time.Time) error {
	var schema any
	if len(entry.OutputSchema) > 0 {
		schema = string(entry.OutputSchema)
	}
	if _, err := tx.Exec(ctx, dlqEntryInsertSQL, entry.ID, schema, entry.Channel, at, runID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, outboxInsertSQL, entry.ID, entry.Channel, at)
	return err
}
