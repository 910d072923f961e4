package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
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
	enqueue        *store.RunEnqueueParams
	// enqueued is the run an enqueue created, once committed.
	enqueued *klaxontype.Run
	apply    writeFunc
	done     chan error
}

// writers group-commit holder writes. Each of them takes every write queued
// while it was busy and commits them in one transaction; with two, one batch
// executes while the other flushes its commit.
type writers struct {
	store    *Store
	requests chan *writeRequest

	mu     sync.RWMutex // guards closed against late submitters
	closed bool
	wg     sync.WaitGroup
	quit   chan struct{}
}

func newWriters(s *Store, n int) *writers {
	w := &writers{store: s, requests: make(chan *writeRequest, maxBatch*n), quit: make(chan struct{})}
	for range n {
		w.wg.Go(w.loop)
	}
	return w
}

// write submits a write and waits until it is durable or refused.
func (w *writers) write(ctx context.Context, req *writeRequest) error {
	req.ctx = ctx
	req.done = make(chan error, 1)
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return klaxontype.ErrClosed
	}
	w.requests <- req
	w.mu.RUnlock()
	return <-req.done
}

func (w *writers) writeFunc(ctx context.Context, apply writeFunc) error {
	return w.write(ctx, &writeRequest{apply: apply})
}

func (w *writers) loop() {
	batch := make([]*writeRequest, 0, maxBatch)
	for {
		select {
		case req := <-w.requests:
			batch = w.fill(append(batch[:0], req))
			w.commit(batch)
		case <-w.quit:
			for {
				batch = w.fill(batch[:0])
				if len(batch) == 0 {
					return
				}
				w.commit(batch)
			}
		}
	}
}

// fill adds every request already waiting, up to maxBatch.
func (w *writers) fill(batch []*writeRequest) []*writeRequest {
	for len(batch) < maxBatch {
		select {
		case req := <-w.requests:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// commit applies a batch in one transaction, retrying it whole when the
// database fails transiently. When a write fails for another reason, the
// batch is rolled back and each write is tried alone, so that one bad write
// cannot fail the others.
func (w *writers) commit(batch []*writeRequest) {
	// A batch outlives any one caller: it runs until every write in it is
	// durable, and stops retrying only when all of its callers gave up.
	ctx, cancel := batchContext(batch)
	defer cancel()
	var results []error
	ambiguous := false
	err := w.store.retry(ctx, func(ctx context.Context) error {
		var err error
		results, err = w.applyBatch(ctx, batch, ambiguous)
		if err != nil && errors.Is(err, errCommitUnknown) {
			// The commit may have happened: the retry accepts what an
			// earlier try wrote as its own.
			ambiguous = true
			return errors.Unwrap(err)
		}
		return err
	})
	if err != nil {
		if len(batch) == 1 || ctx.Err() != nil {
			for _, req := range batch {
				req.done <- err
			}
			return
		}
		for _, req := range batch {
			w.commit([]*writeRequest{req})
		}
		return
	}
	for i, req := range batch {
		req.done <- results[i]
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

func (w *writers) applyBatch(ctx context.Context, batch []*writeRequest, ambiguous bool) ([]error, error) {
	results := make([]error, len(batch))
	b := &pgx.Batch{}
	if err := queueEnqueues(b, batch); err != nil {
		return nil, err
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
			return nil, &commitError{err: err}
		}
		return results, nil
	}
	tx, err := w.store.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, err
		}
	}
	for i, req := range batch {
		if req.apply == nil {
			continue
		}
		err := req.apply(ctx, tx)
		var refused *rejection
		if errors.As(err, &refused) {
			results[i] = refused.err
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, &commitError{err: err}
	}
	return results, nil
}

// close finishes every queued write, then stops the writers.
func (w *writers) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.quit)
	w.wg.Wait()
}
