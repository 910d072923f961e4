package groupcommit

import "time"

// Background work — retention's deletes — shares the committers with the
// requests callers wait on, and must not stall them: a claim queued behind a
// purge batch waits for all of it. So a background request is committed alone,
// and only when the queue has been quiet for QuietGap, or when the committer
// has given background work less than BackgroundShare of its time since the
// last one: under a steady load it still progresses, at a bounded cost.
const (
	// QuietGap is how long no request must have been queued before background
	// work goes ahead: longer than a caller takes to queue its next request
	// once the previous one returned.
	QuietGap = 500 * time.Microsecond
	// BackgroundShare is the part of a busy committer's time background work
	// may take.
	BackgroundShare = 0.05
)

// SubmitBackground queues a request of background work and waits until it is
// committed, in a transaction of its own (see QuietGap and BackgroundShare),
// returning the result the commit gave it. After Close it queues nothing and
// returns klaxontype.ErrClosed.
func (q *Queue[R]) SubmitBackground(request R) error {
	return q.submit(q.background, request)
}

// share is a committer's account of its background work.
type share struct {
	// requestsEnded is when the committer last committed requests.
	requestsEnded time.Time
	// lastEnded is when the last background commit ended; lastTook how long
	// it took.
	lastEnded time.Time
	lastTook  time.Duration
}

// due reports whether background work may go ahead of a busy queue: it has
// had less than its share of the time since it last ran.
func (s *share) due(now time.Time) bool {
	rest := time.Duration(float64(s.lastTook) * (1 - BackgroundShare) / BackgroundShare)
	return now.Sub(s.lastEnded) >= rest
}

// yield commits the requests queued before work, then work, once the queue is
// quiet or work's share is due. It returns false if the queue was closed
// meanwhile, after committing work.
func (q *Queue[R]) yield(b *batch[R], work queued[R]) bool {
	// Already quiet: nothing to wait for.
	quiet := time.NewTimer(max(q.quietGap-time.Since(b.share.requestsEnded), 0))
	defer quiet.Stop()
	open := true
wait:
	for !b.share.due(time.Now()) {
		select {
		case first := <-q.requests:
			q.commitWith(b, first)
			quiet.Reset(q.quietGap)
		case <-quiet.C:
			break wait
		case <-q.quit:
			open = false
			break wait
		}
	}
	began := time.Now()
	b.add(work)
	q.commitBatch(b)
	b.share.lastEnded = time.Now()
	b.share.lastTook = b.share.lastEnded.Sub(began)
	return open
}
