package sqlite

import (
	"errors"
	"sync"

	"github.com/klaxonhq/klaxon/klaxontype"
	"zombiezen.com/go/sqlite"
)

// maxBatch bounds how many writes share one transaction, so that a burst cannot
// make the first write in it wait for hundreds of others.
const maxBatch = 512

// writeFunc applies one write inside the writer's open transaction. It returns
// a rejection (see reject) for a write refused on purpose, which keeps the
// transaction going; any other error aborts the batch.
type writeFunc func(conn *sqlite.Conn) error

type writeRequest struct {
	apply writeFunc
	done  chan error
}

// writer owns the store's only write connection. Writes from every goroutine
// queue up while the previous transaction commits, and the next transaction
// commits all of them together: one disk flush for many checkpoints (group
// commit). A write returns only after the transaction holding it committed.
type writer struct {
	conn     *sqlite.Conn
	requests chan *writeRequest

	mu     sync.RWMutex // guards closed against late submitters
	closed bool
	quit   chan struct{}
	exited chan struct{}
}

func newWriter(conn *sqlite.Conn) *writer {
	w := &writer{
		conn:     conn,
		requests: make(chan *writeRequest, maxBatch),
		quit:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	go w.loop()
	return w
}

// rejection marks a write refused on purpose, such as a checkpoint from a
// holder whose lease was taken over. What the write recorded before refusing
// (the duplicate.suppressed event) is committed with the batch.
type rejection struct{ err error }

func (r *rejection) Error() string { return r.err.Error() }

func reject(err error) error { return &rejection{err: err} }

// write submits a write and waits until it is durable or refused.
func (w *writer) write(apply writeFunc) error {
	req := &writeRequest{apply: apply, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return klaxontype.ErrClosed
	}
	w.requests <- req
	w.mu.RUnlock()
	return <-req.done
}

func (w *writer) loop() {
	defer close(w.exited)
	batch := make([]*writeRequest, 0, maxBatch)
	for {
		select {
		case req := <-w.requests:
			batch = append(batch[:0], req)
			batch = w.fill(batch)
			w.commit(batch)
		case <-w.quit:
			// No submitter can enqueue any more; finish what is queued.
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
func (w *writer) fill(batch []*writeRequest) []*writeRequest {
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

// commit applies a batch in one transaction. When a write fails for a reason
// other than a rejection, the batch is rolled back and each write is retried in
// a transaction of its own, so that one bad write cannot fail the others.
func (w *writer) commit(batch []*writeRequest) {
	results, err := w.applyBatch(batch)
	if err != nil {
		if len(batch) == 1 {
			batch[0].done <- err
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

func (w *writer) applyBatch(batch []*writeRequest) (results []error, err error) {
	if err := execute(w.conn, "BEGIN IMMEDIATE", nil); err != nil {
		return nil, err
	}
	results = make([]error, len(batch))
	for i, req := range batch {
		applyErr := req.apply(w.conn)
		var refused *rejection
		if errors.As(applyErr, &refused) {
			results[i] = refused.err
			continue
		}
		if applyErr != nil {
			_ = execute(w.conn, "ROLLBACK", nil)
			return nil, applyErr
		}
	}
	if err := execute(w.conn, "COMMIT", nil); err != nil {
		_ = execute(w.conn, "ROLLBACK", nil)
		return nil, err
	}
	return results, nil
}

// isClosed reports whether close was called; the store's reads use it to
// tell a closed store from a failing one.
func (w *writer) isClosed() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.closed
}

// close finishes every queued write, then stops the writer.
func (w *writer) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.quit)
	<-w.exited
}
