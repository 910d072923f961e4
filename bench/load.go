package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// engine is one system under test, opened on a fresh database for one
// repetition of one scenario. It starts workflows and reports each one's
// completion to the tracker it was opened with.
type engine interface {
	// start enqueues workflow number i and returns once the engine has
	// accepted it durably (the enqueue has committed).
	start(ctx context.Context, i int) error
	// close stops the engine's workers and releases its database.
	close(ctx context.Context) error
}

// tracker records when each workflow was started and when it completed, and
// bounds how many are in flight: a producer takes a slot before it starts a
// workflow and the completion gives the slot back. That closed loop keeps the
// same number of workflows outstanding for every engine, so the latency from
// enqueue to completion measures the engine, not a backlog of our making.
type tracker struct {
	starts []time.Time
	ends   []time.Time
	slots  chan struct{}

	completed atomic.Int64
	failOnce  sync.Once
	failed    chan struct{}
	err       error
}

func newTracker(runs, inflight int) *tracker {
	return &tracker{
		starts: make([]time.Time, runs),
		ends:   make([]time.Time, runs),
		slots:  make(chan struct{}, inflight),
		failed: make(chan struct{}),
	}
}

// finish records that workflow i completed at the given time and frees its
// slot for the next workflow.
func (t *tracker) finish(i int, at time.Time) {
	if i < 0 || i >= len(t.ends) {
		t.fail(fmt.Errorf("completion of unknown workflow %d", i))
		return
	}
	if !t.ends[i].IsZero() {
		t.fail(fmt.Errorf("workflow %d completed twice", i))
		return
	}
	t.ends[i] = at
	t.completed.Add(1)
	<-t.slots
}

// fail stops the repetition with the first error an engine reports.
func (t *tracker) fail(err error) {
	t.failOnce.Do(func() {
		t.err = err
		close(t.failed)
	})
}

// measurement is what one repetition of one scenario measured.
type measurement struct {
	Workflows   int           `json:"workflows"`
	Steps       int           `json:"steps"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	WorkflowsPS float64       `json:"workflows_per_s"`
	StepsPS     float64       `json:"steps_per_s"`
	P50         time.Duration `json:"p50_ns"`
	P99         time.Duration `json:"p99_ns"`
}

// loadSettings shape the load every engine receives.
type loadSettings struct {
	runs      int
	inflight  int
	timeLimit time.Duration
	drain     time.Duration
}

// drive starts workflows on the engine from settings.inflight producers, each
// waiting for a free slot, until settings.runs have started or
// settings.timeLimit has passed; then it waits for the outstanding ones to
// complete. Throughput is the number started over the time from the first
// start to the last completion.
func drive(ctx context.Context, e engine, t *tracker, steps int, settings loadSettings) (*measurement, error) {
	var (
		next     atomic.Int64
		started  atomic.Int64
		deadline = time.Now().Add(settings.timeLimit)
		wg       sync.WaitGroup
	)
	for range settings.inflight {
		wg.Go(func() {
			for {
				select {
				case t.slots <- struct{}{}:
				case <-t.failed:
					return
				}
				i := int(next.Add(1) - 1)
				if i >= settings.runs || time.Now().After(deadline) {
					<-t.slots
					return
				}
				t.starts[i] = time.Now()
				if err := e.start(ctx, i); err != nil {
					t.fail(fmt.Errorf("start workflow %d: %w", i, err))
					return
				}
				started.Add(1)
			}
		})
	}
	wg.Wait()

	// Taking every slot means nothing is in flight any more.
	drainBy := time.NewTimer(settings.drain)
	defer drainBy.Stop()
	for range settings.inflight {
		select {
		case t.slots <- struct{}{}:
		case <-t.failed:
			return nil, t.err
		case <-drainBy.C:
			return nil, fmt.Errorf("%d of %d workflows still running %s after the last start",
				started.Load()-t.completed.Load(), started.Load(), settings.drain)
		}
	}
	select {
	case <-t.failed:
		return nil, t.err
	default:
	}
	n := int(started.Load())
	if n == 0 {
		return nil, errors.New("no workflow started")
	}
	if got := int(t.completed.Load()); got != n {
		return nil, fmt.Errorf("%d workflows started, %d completed", n, got)
	}
	return summarize(t.starts[:n], t.ends[:n], steps), nil
}

func summarize(starts, ends []time.Time, steps int) *measurement {
	first, last := starts[0], ends[0]
	latencies := make([]time.Duration, len(starts))
	for i := range starts {
		if starts[i].Before(first) {
			first = starts[i]
		}
		if ends[i].After(last) {
			last = ends[i]
		}
		latencies[i] = ends[i].Sub(starts[i])
	}
	slices.Sort(latencies)
	elapsed := last.Sub(first)
	n := len(starts)
	return &measurement{
		Workflows:   n,
		Steps:       n * steps,
		Elapsed:     elapsed,
		WorkflowsPS: float64(n) / elapsed.Seconds(),
		StepsPS:     float64(n*steps) / elapsed.Seconds(),
		P50:         latencies[n/2],
		P99:         latencies[min(n-1, n*99/100)],
	}
}
