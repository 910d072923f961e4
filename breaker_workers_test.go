package klaxon_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// sharedStores opens, for each of two workers, a store on one database: a
// SQLite file shared by both clients of this process, or a PostgreSQL schema
// of the test's own with a pool per worker, as two worker processes would
// have.
type sharedStores func(t *testing.T) (a, b store.Store)

func sqliteShared(t *testing.T) (store.Store, store.Store) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, st
}

func postgresShared(t *testing.T) (store.Store, store.Store) {
	dsn := pgtest.SchemaURL(t, "klaxon_breakers_")
	open := func() store.Store {
		st, err := postgres.Open(context.Background(), dsn, &postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	a := open()
	return a, open()
}

// The breaker of a workflow worked by two workers judges the sum of their
// attempts and spend, read from the store: each worker's own share stays
// under the limit, together they pass it, and the breaker trips once, with
// one notification, naming the store-wide figures.
func TestBreakerJudgesEveryWorker(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]sharedStores{"SQLite": sqliteShared, "PostgreSQL": postgresShared} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			t.Run("SpendRate", func(t *testing.T) {
				t.Parallel()
				testWorkersShareSpend(t, open)
			})
			t.Run("RetryStorm", func(t *testing.T) {
				t.Parallel()
				testWorkersShareStorm(t, open)
			})
		})
	}
}

// twoWorkers starts a client per worker, each with its own version of the
// workflow made by build (given the worker's share counter), and records what
// both tell of the breaker.
type twoWorkers struct {
	clients  [2]*klaxon.Client
	calls    [2]*atomic.Int32
	tripped  chan string
	notified *breakerRecorder
}

func startTwoWorkers(t *testing.T, open sharedStores, build func(calls *atomic.Int32) klaxon.Registrable) *twoWorkers {
	t.Helper()
	stores := [2]store.Store{}
	stores[0], stores[1] = open(t)
	w := &twoWorkers{
		tripped:  make(chan string, 4),
		notified: &breakerRecorder{breakers: make(chan *klaxontype.Breaker, 4)},
	}
	for i, id := range []string{"worker-a", "worker-b"} {
		w.calls[i] = &atomic.Int32{}
		config := fastConfig()
		config.WorkerID = id
		config.Concurrency = 1
		config.ShutdownGrace = 50 * time.Millisecond
		config.BreakerCheckInterval = time.Nanosecond // read the store after every attempt
		config.OnBreaker = func(_, reason string, _ time.Time) { w.tripped <- reason }
		config.Channels = map[string]klaxon.DeadLetterHandler{"ops": w.notified, "review": w.notified}
		config.DeliveryPollInterval = 20 * time.Millisecond
		client, err := klaxon.NewClient(stores[i], config)
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Register(build(w.calls[i])); err != nil {
			t.Fatal(err)
		}
		if err := client.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = client.Stop(ctx)
		})
		w.clients[i] = client
	}
	return w
}

// awaitOneTrip waits for the breaker to trip, checks that it tripped once,
// notified once and is open, and returns its reason.
func (w *twoWorkers) awaitOneTrip(t *testing.T, workflow string) string {
	t.Helper()
	var reason string
	select {
	case reason = <-w.tripped:
	case <-time.After(10 * time.Second):
		t.Fatalf("the breaker never tripped: the workers made %d and %d calls", w.calls[0].Load(), w.calls[1].Load())
	}
	select {
	case b := <-w.notified.breakers:
		if b.Workflow != workflow || b.Reason == "" {
			t.Fatalf("the channel was told %+v", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no channel was told that the breaker opened")
	}
	time.Sleep(200 * time.Millisecond) // room for a second trip or notification, which must not come
	select {
	case again := <-w.tripped:
		t.Fatalf("the breaker tripped again: %q", again)
	case again := <-w.notified.breakers:
		t.Fatalf("a second notification: %+v", again)
	default:
	}
	breakers, err := w.clients[0].Breakers(context.Background())
	if err != nil || len(breakers) != 1 || !breakers[0].Open || breakers[0].Workflow != workflow {
		t.Fatalf("breakers = %+v, %v", breakers, err)
	}
	return reason
}

// waitForRelease stands for a worker that has nothing more to do until the
// test ends: its step holds the run until the worker stops.
func waitForRelease(ctx context.Context) error {
	<-ctx.Done()
	return context.Cause(ctx)
}

func testWorkersShareSpend(t *testing.T, open sharedStores) {
	w := startTwoWorkers(t, open, func(calls *atomic.Int32) klaxon.Registrable {
		return klaxon.NewWorkflow("shared-pricey", func(ctx context.Context, _ int) (int, error) {
			return klaxon.Step(ctx, "call", func(ctx context.Context) (int, error) {
				if calls.Load() >= 2 {
					// This worker's share stops at $2, under the limit.
					return 0, waitForRelease(ctx)
				}
				calls.Add(1)
				fakeCall(ctx, 1000, 1000, 1.00)
				return 1, nil
			})
		}, klaxon.WithSpendRateLimit(2.50))
	})
	for i := range 8 {
		if _, err := w.clients[i%2].Enqueue(context.Background(), "shared-pricey", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	reason := w.awaitOneTrip(t, "shared-pricey")
	if !strings.Contains(reason, "across all workers exceeds the limit of $2.50/h") ||
		!(strings.Contains(reason, "$3.0000") || strings.Contains(reason, "$4.0000")) {
		t.Fatalf("reason %q; want the store-wide spend, $3 or $4, against the limit", reason)
	}
	if a, b := w.calls[0].Load(), w.calls[1].Load(); a > 2 || b > 2 || a+b < 3 {
		t.Fatalf("the workers spent $%d and $%d", a, b)
	}
}

func testWorkersShareStorm(t *testing.T, open sharedStores) {
	w := startTwoWorkers(t, open, func(calls *atomic.Int32) klaxon.Registrable {
		return klaxon.NewWorkflow("shared-stormy", func(ctx context.Context, _ int) (string, error) {
			return klaxon.Step(ctx, "call", func(ctx context.Context) (string, error) {
				if calls.Load() >= 3 {
					// Three failed attempts each, under the breaker's minimum
					// of six.
					return "", waitForRelease(ctx)
				}
				calls.Add(1)
				return "", errors.New("provider down")
			})
		},
			klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 100, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
			klaxon.WithBreaker(klaxontype.BreakerPolicy{Window: time.Minute, MinAttempts: 6, FailureRate: 0.8, CoolDown: time.Hour}),
		)
	})
	var ids []string
	for i := range 4 {
		result, err := w.clients[i%2].Enqueue(context.Background(), "shared-stormy", []byte(strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, result.Run.ID)
	}
	reason := w.awaitOneTrip(t, "shared-stormy")
	if !strings.Contains(reason, "retry storm: 6 of the last 6 attempts failed within 1m0s across all workers") {
		t.Fatalf("reason %q; want the store-wide count of six failures", reason)
	}
	if a, b := w.calls[0].Load(), w.calls[1].Load(); a != 3 || b != 3 {
		t.Fatalf("the workers failed %d and %d times; want 3 each", a, b)
	}
	tripped := 0
	for _, id := range ids {
		for _, e := range eventTypes(t, w.clients[0].Store(), id) {
			if e == string(klaxontype.EventBreakerTripped) {
				tripped++
			}
		}
	}
	if tripped != 1 {
		t.Fatalf("%d runs recorded breaker.tripped; want 1", tripped)
	}
}
