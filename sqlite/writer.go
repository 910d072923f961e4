package sqlite

import (
	"github.com/klaxonhq/klaxon/internal/groupcommit"
	"zombiezen.com/go/sqlite"
)

// maxBatch bounds how many writes share one transaction, so that a burst cannot
// make the first write in it wait for hundreds of others.
const maxBatch = 512

// writeFunc applies one write inside the writer's open transaction. It returns
// a rejection (see reject) for a write refused on purpose, which keeps the
// transaction going; any other error aborts the batch.
type writeFunc func(conn *sqlite.Conn) error

// writer owns the store's only write connection. Writes from every goroutine
// queue up while the previous transaction commits, and the next transaction
// commits all of them together: one disk flush for many checkpoints (group
// commit). A write returns only after the transaction holding it committed.
type writer struct {
	conn  *sqlite.Conn
	queue *groupcommit.Queue[writeFunc]
}

func newWriter(conn *sqlite.Conn) *writer {
	w := &writer{conn: conn}
	w.queue = groupcommit.New(1, maxBatch, w.commit)
	return w
}

// writeBackground submits a write of maintenance, which yields to the others,
// and waits until it is durable or refused.
func (w *writer) writeBackground(apply writeFunc) error {
	return w.queue.SubmitBackground(apply)
}

// reject refuses a write on purpose: what the write recorded before refusing
// (the duplicate.suppressed event) is committed with the batch, and its caller
// is told err.
func reject(err error) error { return groupcommit.Reject(err) }

// write submits a write and waits until it is durable or refused.
func (w *writer) write(apply writeFunc) error {
	return w.queue.Submit(apply)
}

// commit applies a batch in one transaction. When a write fails for a reason
// other than a rejection, the batch is rolled back and each write is retried in
// a transaction of its own, so that one bad write cannot fail the others.
func (w *writer) commit(batch []writeFunc, results []error) {
	err := w.applyBatch(batch, results)
	if err == nil {
		return
	}
	if len(batch) == 1 {
		results[0] = err
		return
	}
	for i := range batch {
		w.commit(batch[i:i+1], results[i:i+1])
	}
}

// applyBatch sets results to the writes' rejections, if any, once the
// transaction committed.
func (w *writer) applyBatch(batch []writeFunc, results []error) error {
	// A retry must not keep what a rolled-back try was refused with.
	clear(results)
	if err := execute(w.conn, "BEGIN IMMEDIATE", nil); err != nil {
		return err
	}
	for i, apply := range batch {
		applyErr := apply(w.conn)
		if reason, refused := groupcommit.Refusal(applyErr); refused {
			results[i] = reason
			continue
		}
		if applyErr != nil {
			_ = execute(w.conn, "ROLLBACK", nil)
			return applyErr
		}
	}
	if err := execute(w.conn, "COMMIT", nil); err != nil {
		_ = execute(w.conn, "ROLLBACK", nil)
		return err
	}
	return nil
}

// isClosed reports whether close was called; the store's reads use it to
// tell a closed store from a failing one.
func (w *writer) isClosed() bool { return w.queue.Closed() }

// close finishes every queued write, then stops the writer.
func (w *writer) close() { w.queue.Close() }
