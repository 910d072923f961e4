// Package groupcommit commits the writes of many goroutines together: a write
// queues while the previous batch commits, and the next batch commits every
// write queued by then in one transaction, so that durability costs one flush
// per batch rather than one per write. It holds what the stores share — the
// queue, the batches, the hand-back of each write's result, the shutdown and
// the rejection of a write refused on purpose — and each store keeps only how
// it commits a batch.
//
// It may import only the standard library and klaxontype.
package groupcommit

import (
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Commit commits a batch of requests in one transaction where it can, and
// sets results[i] to what the caller of batch[i] is told: nil once its write
// is durable, the reason of its rejection, or the error that failed it.
// results is as long as batch and all nil when Commit is called. The queue
// reuses both slices for its next batch, so Commit must not keep them.
type Commit[R any] func(batch []R, results []error)

// Queue group-commits requests of type R, a store's request pointer or write
// function, with a fixed number of committers. Each committer takes every
// request queued while it was busy, up to the batch size, and commits them
// together; with two, one batch executes while the other flushes its commit.
type Queue[R any] struct {
	requests chan queued[R]
	// background holds requests of maintenance work, which yield to requests
	// (see SubmitBackground).
	background chan queued[R]
	commit     Commit[R]
	maxBatch   int
	// quietGap is QuietGap but in tests.
	quietGap time.Duration

	mu     sync.RWMutex // guards closed against late submitters
	closed bool
	quit   chan struct{}
	wg     sync.WaitGroup
}

// queued is a request and the channel its caller waits on for the result.
// It travels by value, so queueing allocates nothing beyond that channel.
type queued[R any] struct {
	request R
	done    chan error
}

// New starts a queue whose committers each commit batches of up to maxBatch
// requests with commit. maxBatch bounds how long the first write of a burst
// waits for the others.
func New[R any](committers, maxBatch int, commit Commit[R]) *Queue[R] {
	return newQueue(committers, maxBatch, commit, QuietGap)
}

func newQueue[R any](committers, maxBatch int, commit Commit[R], quietGap time.Duration) *Queue[R] {
	q := &Queue[R]{
		quietGap:   quietGap,
		requests:   make(chan queued[R], maxBatch*committers),
		background: make(chan queued[R], committers),
		commit:     commit,
		maxBatch:   maxBatch,
		quit:       make(chan struct{}),
	}
	for range committers {
		q.wg.Go(q.run)
	}
	return q
}

// Submit queues a request and waits until the batch holding it is committed,
// returning the result the commit gave it. After Close it queues nothing and
// returns klaxontype.ErrClosed.
func (q *Queue[R]) Submit(request R) error {
	return q.submit(q.requests, request)
}

func (q *Queue[R]) submit(to chan queued[R], request R) error {
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		return klaxontype.ErrClosed
	}
	done := resultChannels.Get().(chan error)
	to <- queued[R]{request: request, done: done}
	q.mu.RUnlock()
	err := <-done
	// Received, so empty, and no committer holds it any more.
	resultChannels.Put(done)
	return err
}

// resultChannels are the channels submitters wait on for their result, reused:
// the hot path submits a write per step, and a new channel for each was most
// of what a write allocated. A committer sends on each exactly once.
var resultChannels = sync.Pool{New: func() any { return make(chan error, 1) }}

// Closed reports whether Close was called; a store's reads use it to tell a
// closed store from a failing one.
func (q *Queue[R]) Closed() bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.closed
}

// Close refuses new requests, commits every request already queued, and
// returns once the committers have stopped.
func (q *Queue[R]) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.mu.Unlock()
	close(q.quit)
	q.wg.Wait()
}

// batch is a committer's batch; its slices are allocated once and reused.
type batch[R any] struct {
	requests []R
	dones    []chan error
	results  []error
	// share is the committer's account of its background work.
	share share
}

// run is one committer.
func (q *Queue[R]) run() {
	b := &batch[R]{
		requests: make([]R, 0, q.maxBatch),
		dones:    make([]chan error, 0, q.maxBatch),
		results:  make([]error, q.maxBatch),
	}
	for {
		select {
		case first := <-q.requests:
			q.commitWith(b, first)
		case work := <-q.background:
			if !q.yield(b, work) {
				q.finish(b)
				return
			}
		case <-q.quit:
			q.finish(b)
			return
		}
	}
}

// commitWith commits first with every request queued behind it.
func (q *Queue[R]) commitWith(b *batch[R], first queued[R]) {
	b.add(first)
	q.fill(b)
	q.commitBatch(b)
	b.share.requestsEnded = time.Now()
}

// finish commits what is queued once no submitter can queue any more.
func (q *Queue[R]) finish(b *batch[R]) {
	for {
		select {
		case work := <-q.background:
			b.add(work)
			q.commitBatch(b)
			continue
		default:
		}
		if q.fill(b); len(b.requests) == 0 {
			return
		}
		q.commitBatch(b)
	}
}

func (b *batch[R]) add(request queued[R]) {
	b.requests = append(b.requests, request.request)
	b.dones = append(b.dones, request.done)
}

// fill adds every request already waiting, up to maxBatch.
func (q *Queue[R]) fill(b *batch[R]) {
	for len(b.requests) < q.maxBatch {
		select {
		case request := <-q.requests:
			b.add(request)
		default:
			return
		}
	}
}

// commitBatch commits the batch, hands each caller its result, and empties
// the batch for the next one.
func (q *Queue[R]) commitBatch(b *batch[R]) {
	results := b.results[:len(b.requests)]
	q.commit(b.requests, results)
	for i, done := range b.dones {
		done <- results[i]
	}
	// Cleared, so that the next commit starts from nil results and a
	// committed request is not kept alive until it is overwritten.
	clear(results)
	clear(b.requests)
	clear(b.dones)
	b.requests, b.dones = b.requests[:0], b.dones[:0]
}
