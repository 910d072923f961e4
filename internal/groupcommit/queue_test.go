package groupcommit

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Every caller gets the result its own request was given, whatever batch it
// landed in, and no batch is larger than the bound.
func TestQueueHandsEachCallerItsResult(t *testing.T) {
	t.Parallel()
	const maxBatch = 4
	var mu sync.Mutex
	largest := 0
	q := New(2, maxBatch, func(batch []*int, results []error) {
		mu.Lock()
		largest = max(largest, len(batch))
		mu.Unlock()
		for i, n := range batch {
			if results[i] != nil {
				t.Errorf("results[%d] is %v before the commit", i, results[i])
			}
			if *n%3 == 0 {
				results[i] = fmt.Errorf("refused %d", *n)
			}
		}
	})
	var wg sync.WaitGroup
	for n := range 200 {
		wg.Go(func() {
			err := q.Submit(&n)
			if n%3 == 0 {
				if err == nil || err.Error() != fmt.Sprintf("refused %d", n) {
					t.Errorf("request %d: %v", n, err)
				}
			} else if err != nil {
				t.Errorf("request %d: %v", n, err)
			}
		})
	}
	wg.Wait()
	q.Close()
	if largest > maxBatch {
		t.Errorf("a batch held %d requests, more than %d", largest, maxBatch)
	}
}

// Close commits what is queued, then refuses new requests with ErrClosed.
func TestQueueCloseFinishesQueuedRequests(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	q := New(1, 8, func(batch []int, results []error) {
		once.Do(func() { close(started) })
		<-release
	})
	errs := make(chan error, 3)
	go func() { errs <- q.Submit(0) }()
	<-started
	// Two more queue behind the batch being committed.
	go func() { errs <- q.Submit(1) }()
	go func() { errs <- q.Submit(2) }()
	waitFor(t, func() bool { return len(q.requests) == 2 })
	closed := make(chan struct{})
	go func() {
		q.Close()
		close(closed)
	}()
	waitFor(t, q.Closed)
	if err := q.Submit(3); !errors.Is(err, klaxontype.ErrClosed) {
		t.Errorf("Submit after Close: %v, want ErrClosed", err)
	}
	close(release)
	<-closed
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("a queued request: %v", err)
		}
	}
	q.Close() // a second Close is harmless
}

func waitFor(t *testing.T, condition func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !condition(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

func TestRefusal(t *testing.T) {
	t.Parallel()
	reason := errors.New("lease lost")
	if got, refused := Refusal(fmt.Errorf("checkpoint: %w", Reject(reason))); !refused || got != reason {
		t.Errorf("Refusal of a wrapped rejection = %v, %v", got, refused)
	}
	if _, refused := Refusal(reason); refused {
		t.Error("an error that is not a rejection was taken for one")
	}
	if _, refused := Refusal(nil); refused {
		t.Error("nil was taken for a rejection")
	}
	if Reject(reason).Error() != reason.Error() {
		t.Errorf("a rejection reads %q", Reject(reason).Error())
	}
}

// Background work waits while requests keep coming, goes ahead once its
// share of the committer's time is due, and goes at once when the queue is
// quiet.
func TestQueueBackgroundYieldsToRequests(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var purges int
	// A quiet gap far longer than the loop below takes to queue its next
	// request, however loaded the machine.
	q := newQueue(1, 8, func(batch []string, results []error) {
		if batch[0] == "purge" {
			if len(batch) != 1 {
				t.Errorf("background work shared a commit: %v", batch)
			}
			mu.Lock()
			purges++
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		} else {
			time.Sleep(time.Millisecond)
		}
	}, 50*time.Millisecond)
	defer q.Close()
	// The first background request goes at once: nothing is owed yet.
	if err := q.SubmitBackground("purge"); err != nil {
		t.Fatal(err)
	}
	// It took 20ms, so the next may go ahead of a busy queue only after
	// 380ms more.
	purged := make(chan time.Time, 1)
	began := time.Now()
	go func() {
		if err := q.SubmitBackground("purge"); err != nil {
			t.Error(err)
		}
		purged <- time.Now()
	}()
	for time.Since(began) < 100*time.Millisecond {
		if err := q.Submit("claim"); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	early := purges
	mu.Unlock()
	if early != 1 {
		t.Fatalf("background work went ahead of a busy queue within 100ms")
	}
	// Whether its share comes due or the queue falls quiet, it goes.
	if at := <-purged; at.Sub(began) > 5*time.Second {
		t.Errorf("background work waited %v", at.Sub(began))
	}
}

// Close commits background work still queued.
func TestQueueCloseFinishesBackgroundWork(t *testing.T) {
	t.Parallel()
	held, release := make(chan struct{}), make(chan struct{})
	var committed []string
	q := New(1, 8, func(batch []string, results []error) {
		if batch[0] == "hold" {
			close(held)
			<-release
		}
		committed = append(committed, batch...)
	})
	go func() { _ = q.Submit("hold") }()
	<-held
	done := make(chan error, 1)
	go func() { done <- q.SubmitBackground("purge") }()
	// Close once the background request is queued behind the held commit.
	for len(q.background) == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	close(release)
	<-closed
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(committed, []string{"hold", "purge"}) {
		t.Errorf("committed %v", committed)
	}
	if err := q.SubmitBackground("late"); !errors.Is(err, klaxontype.ErrClosed) {
		t.Errorf("SubmitBackground after Close: %v", err)
	}
}
