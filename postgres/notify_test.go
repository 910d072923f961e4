package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
)

// An idle worker wakes when another process enqueues, through LISTEN/NOTIFY,
// long before its next poll.
func TestIdleWorkerWakesOnAnotherProcessEnqueue(t *testing.T) {
	url := schemaURL(t)
	ctx := context.Background()
	open := func() *postgres.Store {
		st, err := postgres.Open(ctx, url, &postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	workerStore, producerStore := open(), open()
	echo := klaxon.NewWorkflow("echo", func(ctx context.Context, s string) (string, error) {
		return klaxon.Step(ctx, "echo", func(context.Context) (string, error) { return s, nil })
	})
	completed := make(chan time.Time, 1)
	worker, err := klaxon.NewClient(workerStore, &klaxon.Config{
		PollInterval: time.Hour, // only a notification can wake it in time
		OnAttempt: func(o *klaxontype.AttemptOutcome) {
			if o.Result == klaxontype.AttemptCompleted {
				completed <- time.Now()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Register(echo); err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = worker.Stop(ctx) })
	// Let the worker find the queue empty and go idle.
	time.Sleep(300 * time.Millisecond)

	producer, _ := klaxon.NewClient(producerStore, nil)
	_ = producer.Register(echo)
	enqueued := time.Now()
	if _, err := echo.Enqueue(ctx, producer, "hello"); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-completed:
		t.Logf("worked %v after the enqueue in another store", at.Sub(enqueued).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("the idle worker did not wake within 10s of an enqueue by another process (poll interval 1h)")
	}
}
