package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunComplete marks a held run completed with its output. It is queued for
// a writer, which completes every run of its batch with one statement.
func (s *Store) RunComplete(ctx context.Context, params *store.RunCompleteParams) error {
	if params.Child {
		return s.RunCompleteChild(ctx, params)
	}
	// The record is encoded here, on the caller's goroutine, not by the
	// writer that batches every completion.
	record, err := encodeRecord(params.Record)
	if err != nil {
		return err
	}
	return s.writers.write(ctx, &writeRequest{complete: params, completeRecord: record, payload: s.keys.Seal(params.Output)})
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
		output = append(output, req.payload)
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
