package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/internal/groupcommit"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// maxBatch bounds how many writes share one transaction.
const maxBatch = 512

// writeFunc applies one write inside a batch's transaction. It returns a
// rejection (see reject) for a write refused on purpose, which keeps the
// transaction going; any other error aborts the batch.
type writeFunc func(ctx context.Context, tx pgx.Tx) error

// writeRequest is one queued write: a checkpoint or a completion, which
// batches write with one array statement each, or any other holder write.
type writeRequest struct {
	ctx        context.Context
	checkpoint *store.StepCheckpointParams
	complete   *store.RunCompleteParams
	// completeRecord is the completion's record as JSON, encoded before
	// the request was queued; nil for none.
	completeRecord *string
	// payload is the checkpoint's or completion's output, or the
	// enqueue's input, sealed with the store's keys (as it is without
	// keys) before the request was queued, so that the writers do not
	// encrypt a whole batch on their goroutines.
	payload []byte
	enqueue *store.RunEnqueueParams
	// enqueued is the run an enqueue created, once committed.
	enqueued *klaxontype.Run
	apply    writeFunc
}

// writers group-commit holder writes. Each of them takes every write queued
// while it was busy and commits them in one transaction; with two, one batch
// executes while the other flushes its commit.
type writers struct {
	store *Store
	queue *groupcommit.Queue[*writeRequest]
}

func newWriters(s *Store, n int) *writers {
	w := &writers{store: s}
	w.queue = groupcommit.New(n, maxBatch, w.commit)
	return w
}

// reject refuses a write on purpose: what the write recorded before refusing
// (the duplicate.suppressed event) is committed, and its caller is told err.
func reject(err error) error { return groupcommit.Reject(err) }

// write submits a write and waits until it is durable or refused.
func (w *writers) write(ctx context.Context, req *writeRequest) error {
	req.ctx = ctx
	return w.queue.Submit(req)
}

func (w *writers) writeFunc(ctx context.Context, apply writeFunc) error {
	return w.write(ctx, &writeRequest{apply: apply})
}

// commit applies a batch in one transaction, retrying it whole when the
// database fails transiently. When a write fails for another reason, the
// batch is rolled back and each write is tried alone, so that one bad write
// cannot fail the others.
func (w *writers) commit(batch []*writeRequest, results []error) {
	// A batch outlives any one caller: it runs until every write in it is
	// durable, and stops retrying only when all of its callers gave up.
	ctx, cancel := batchContext(batch)
	defer cancel()
	ambiguous := false
	err := w.store.retry(ctx, func(ctx context.Context) error {
		err := w.applyBatch(ctx, batch, results, ambiguous)
		if err != nil && errors.Is(err, errCommitUnknown) {
			// The commit may have happened: the retry accepts what an
			// earlier try wrote as its own.
			ambiguous = true
			return errors.Unwrap(err)
		}
		return err
	})
	if err == nil {
		return
	}
	if len(batch) == 1 || ctx.Err() != nil {
		for i := range results {
			results[i] = err
		}
		return
	}
	for i := range batch {
		w.commit(batch[i:i+1], results[i:i+1])
	}
}

// batchContext ends when every caller of the batch has given up.
func batchContext(batch []*writeRequest) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	var remaining sync.WaitGroup
	remaining.Add(len(batch))
	stops := make([]func() bool, 0, len(batch))
	for _, req := range batch {
		stops = append(stops, context.AfterFunc(req.ctx, remaining.Done))
	}
	go func() {
		remaining.Wait()
		cancel()
	}()
	return ctx, func() {
		for _, stop := range stops {
			if stop() {
				remaining.Done()
			}
		}
		cancel()
	}
}

// errCommitUnknown wraps a failed COMMIT, whose outcome is unknown.
var errCommitUnknown = errors.New("commit outcome unknown")

type commitError struct{ err error }

func (e *commitError) Error() string { return "commit: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }
func (e *commitError) Is(target error) bool {
	return target == errCommitUnknown
}

// applyBatch sets results to the writes' rejections, if any, once the
// transaction committed.
func (w *writers) applyBatch(ctx context.Context, batch []*writeRequest, results []error, ambiguous bool) error {
	// A retry must not keep what a failed try was refused with.
	clear(results)
	b := &pgx.Batch{}
	if err := queueEnqueues(b, w.store.keys, batch); err != nil {
		return err
	}
	queueCheckpoints(b, batch, results, ambiguous)
	queueCompletions(b, batch, results, ambiguous)
	general := false
	for _, req := range batch {
		general = general || req.apply != nil
	}
	if !general {
		// Checkpoints and completions only, the common case: their statements
		// go in one round trip as one implicit transaction, which commits at
		// its end. A failure there leaves the commit in doubt.
		if err := w.store.pool.SendBatch(ctx, b).Close(); err != nil {
			return &commitError{err: err}
		}
		return nil
	}
	tx, err := w.store.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	for i, req := range batch {
		if req.apply == nil {
			continue
		}
		err := req.apply(ctx, tx)
		if reason, refused := groupcommit.Refusal(err); refused {
			results[i] = reason
			continue
		}
		if err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return &commitError{err: err}
	}
	return nil
}

// close finishes every queued write, then stops the writers.
func (w *writers) close() { w.queue.Close() }
