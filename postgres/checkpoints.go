package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/txn"
)

// StepCheckpoint records a completed step under the holder's lease. It is
// queued for a writer, which writes every checkpoint of its batch with one
// statement.
func (s *Store) StepCheckpoint(ctx context.Context, params *store.StepCheckpointParams) error {
	output := params.Output
	if output == nil {
		output = []byte("null")
	}
	return s.writers.write(ctx, &writeRequest{checkpoint: params, payload: s.keys.Seal(output)})
}

// checkpointColumns are the checkpoints of a batch as the arrays the
// statement unnests.
type checkpointColumns struct {
	idx, seq, attempt, modelCalls                  []int32
	runID, name, key, holder                       []string
	epoch, inputTokens, outputTokens, cachedTokens []int64
	rateLimitWait                                  []int64
	output                                         [][]byte
	startedAt, finishedAt                          []time.Time
	costUSD                                        []float64
	costUnknown                                    []bool
}

// newCheckpointColumns makes columns for n checkpoints, each allocated once.
func newCheckpointColumns(n int) *checkpointColumns {
	return &checkpointColumns{
		idx: make([]int32, 0, n), seq: make([]int32, 0, n), attempt: make([]int32, 0, n), modelCalls: make([]int32, 0, n),
		runID: make([]string, 0, n), name: make([]string, 0, n), key: make([]string, 0, n), holder: make([]string, 0, n),
		epoch: make([]int64, 0, n), inputTokens: make([]int64, 0, n), outputTokens: make([]int64, 0, n),
		cachedTokens: make([]int64, 0, n), rateLimitWait: make([]int64, 0, n), output: make([][]byte, 0, n),
		startedAt: make([]time.Time, 0, n), finishedAt: make([]time.Time, 0, n), costUSD: make([]float64, 0, n),
		costUnknown: make([]bool, 0, n),
	}
}

func (c *checkpointColumns) add(idx int, p *store.StepCheckpointParams, output []byte) {
	c.idx = append(c.idx, int32(idx))
	c.runID = append(c.runID, p.RunID)
	c.seq = append(c.seq, int32(p.Seq))
	c.name = append(c.name, p.Name)
	c.attempt = append(c.attempt, int32(p.Attempt))
	c.epoch = append(c.epoch, p.Epoch)
	c.key = append(c.key, p.IdempotencyKey)
	c.output = append(c.output, output)
	c.startedAt = append(c.startedAt, p.StartedAt)
	c.finishedAt = append(c.finishedAt, p.FinishedAt)
	c.holder = append(c.holder, p.Holder)
	c.inputTokens = append(c.inputTokens, p.Spend.Usage.InputTokens)
	c.outputTokens = append(c.outputTokens, p.Spend.Usage.OutputTokens)
	c.cachedTokens = append(c.cachedTokens, p.Spend.Usage.CachedTokens)
	c.costUSD = append(c.costUSD, p.Spend.Cost.USD)
	c.costUnknown = append(c.costUnknown, p.Spend.Cost.Unknown)
	c.modelCalls = append(c.modelCalls, int32(p.Spend.ModelCalls))
	c.rateLimitWait = append(c.rateLimitWait, int64(p.RateLimitWait))
}

// queueCheckpoints queues the batch's checkpoints on b, preceded by their
// fencing locks, and sets the result of each one refused when b's results are
// read. After a commit whose outcome was unknown (ambiguous), a step already
// in the log with the same epoch and key is the earlier try's, and succeeds.
func queueCheckpoints(b *pgx.Batch, batch []*writeRequest, results []error, ambiguous bool) {
	n := 0
	for _, req := range batch {
		if req.checkpoint != nil {
			n++
		}
	}
	if n == 0 {
		return
	}
	c := newCheckpointColumns(n)
	for i, req := range batch {
		if req.checkpoint != nil {
			c.add(i, req.checkpoint, req.payload)
		}
	}
	// The fencing locks come first, in a statement of their own, so that the
	// checkpoint statement's snapshot is taken after a reclaim that got there
	// first has committed.
	b.Queue(runsFenceSQL, c.runID)
	b.Queue(stepsCheckpointSQL, c.idx, c.runID, c.seq, c.name, c.attempt, c.epoch, c.key,
		c.output, c.startedAt, c.finishedAt, c.holder, c.inputTokens, c.outputTokens, c.cachedTokens,
		c.costUSD, c.costUnknown, c.modelCalls, now(), ambiguous,
		klaxontype.ErrLeaseLost.Error(), klaxontype.ErrStepExists.Error(), c.rateLimitWait).
		Query(func(rows pgx.Rows) error {
			var idx int32
			var held, accepted bool
			_, err := pgx.ForEachRow(rows, []any{&idx, &held, &accepted}, func() error {
				if accepted {
					return nil
				}
				p := batch[idx].checkpoint
				cause := klaxontype.ErrStepExists
				if !held {
					cause = klaxontype.ErrLeaseLost
				}
				// The statement recorded the duplicate.suppressed event.
				results[idx] = fmt.Errorf("checkpoint of run %s: %w", p.RunID, cause)
				return nil
			})
			return err
		})
}

// suppressions collects the writes of a batch refused for a stale lease or a
// duplicate, to record their duplicate.suppressed events together.
type suppressions struct {
	idx, stepSeq                []int32
	runID, actor, step, message []string
}

// add notes a refused write and returns its error.
func (s *suppressions) add(idx int, lease store.Lease, holder, what, step string, seq int, cause error) error {
	s.idx = append(s.idx, int32(idx))
	s.runID = append(s.runID, lease.RunID)
	s.actor = append(s.actor, holder)
	s.step = append(s.step, step)
	s.stepSeq = append(s.stepSeq, int32(seq))
	s.message = append(s.message, txn.SuppressedMessage(what, lease.Epoch, cause))
	return fmt.Errorf("%s of run %s: %w", what, lease.RunID, cause)
}

func (s *suppressions) record(ctx context.Context, tx pgx.Tx, at time.Time) error {
	if len(s.idx) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, eventsSuppressedSQL, s.idx, s.runID, s.actor, s.step, s.stepSeq, s.message, at)
	return err
}

// suppress records one write refused because its holder no longer holds the
// run, and returns the rejection.
func suppress(ctx context.Context, tx pgx.Tx, lease store.Lease, holder, what, step string, seq int, cause error) error {
	var s suppressions
	refusal := s.add(0, lease, holder, what, step, seq, cause)
	if err := s.record(ctx, tx, now()); err != nil {
		return err
	}
	return reject(refusal)
}
