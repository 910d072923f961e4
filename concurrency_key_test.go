package klaxon_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// order is a customer's order, the input of the keyed workflows below.
type order struct {
	Customer string `json:"customer"`
	N        int    `json:"n"`
}

// overlap records, per key, how many runs execute at once, the most seen,
// and the order runs started in.
type overlap struct {
	mu      sync.Mutex
	running map[string]int
	most    map[string]int
	started map[string][]int
}

func newOverlap() *overlap {
	return &overlap{running: map[string]int{}, most: map[string]int{}, started: map[string][]int{}}
}

func (o *overlap) enter(in order) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.running[in.Customer]++
	o.most[in.Customer] = max(o.most[in.Customer], o.running[in.Customer])
	o.started[in.Customer] = append(o.started[in.Customer], in.N)
}

func (o *overlap) leave(in order) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.running[in.Customer]--
}

// Two workers of one database, sixteen slots between them, run a
// customer's orders one at a time, in the order they were enqueued, while
// other customers' orders and orders without a customer go on beside them;
// every order completes.
func TestConcurrencyKeyOneRunPerCustomerAcrossWorkers(t *testing.T) {
	for _, stores := range []struct {
		name string
		open sharedStores
	}{{"sqlite", sqliteShared}, {"postgres", postgresShared}} {
		t.Run(stores.name, func(t *testing.T) {
			if stores.name == "postgres" && os.Getenv("KLAXON_TEST_POSTGRES_URL") == "" {
				t.Skip("KLAXON_TEST_POSTGRES_URL is not set")
			}
			t.Parallel()
			a, b := stores.open(t)
			seen := newOverlap()
			workflow := klaxon.NewWorkflow("fulfil-order", func(ctx context.Context, in order) (int, error) {
				return klaxon.Step(ctx, "pack", func(ctx context.Context) (int, error) {
					seen.enter(in)
					defer seen.leave(in)
					time.Sleep(20 * time.Millisecond)
					return in.N, nil
				})
			}, klaxon.WithConcurrencyKey(func(in order) string { return in.Customer }, 1))
			first := startClientOn(t, a, workflow)
			startClientOn(t, b, workflow)

			ctx := context.Background()
			var ids []string
			for n := range 6 {
				for _, customer := range []string{"acme", "globex", ""} {
					enqueued, err := workflow.Enqueue(ctx, first, order{Customer: customer, N: n})
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, enqueued.Run.ID)
				}
			}
			for _, id := range ids {
				if run := awaitRun(t, first, id); run.Status != klaxontype.RunStatusCompleted {
					t.Fatalf("run %s ended %s: %+v", id, run.Status, run.Failure)
				}
			}
			seen.mu.Lock()
			defer seen.mu.Unlock()
			for _, customer := range []string{"acme", "globex"} {
				if seen.most[customer] != 1 {
					t.Errorf("customer %s had %d orders running at once; want 1", customer, seen.most[customer])
				}
				if want := []int{0, 1, 2, 3, 4, 5}; !slices.Equal(seen.started[customer], want) {
					t.Errorf("customer %s's orders started in the order %v; want %v", customer, seen.started[customer], want)
				}
			}
			if seen.most[""] < 2 {
				t.Logf("orders without a customer never overlapped (most %d at once): the machine is slow, not a failure", seen.most[""])
			}
			run, err := first.Run(ctx, ids[0])
			if err != nil || run.ConcurrencyKey != "acme" {
				t.Errorf("the first order's run: key %q, %v; want acme", run.ConcurrencyKey, err)
			}
		})
	}
}

// A run holds its slot while it waits for a signal; the next run of its
// key waits in pending meanwhile, and takes the slot as soon as a person
// cancels the holder.
func TestConcurrencyKeyWaitHoldsTheSlotUntilCancelled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	workflow := klaxon.NewWorkflow("review-order", func(ctx context.Context, in order) (string, error) {
		if in.N == 0 {
			return klaxon.WaitForSignal[string](ctx, "approved", klaxon.SignalTimeout(time.Hour))
		}
		return "done", nil
	}, klaxon.WithConcurrencyKey(func(in order) string { return in.Customer }, 1))
	client := startClient(t, st, nil, workflow)
	holder, err := workflow.Enqueue(ctx, client, order{Customer: "acme", N: 0})
	if err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, client, holder.Run.ID, klaxontype.RunStatusWaiting)
	next, err := workflow.Enqueue(ctx, client, order{Customer: "acme", N: 1})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		run, err := client.Run(ctx, next.Run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if run.ConcurrencySlot == klaxontype.SlotWaiting {
			if run.Status != klaxontype.RunStatusPending {
				t.Fatalf("the run waiting for a slot is %s; want pending", run.Status)
			}
			break
		}
		if run.Status.Terminal() || time.Now().After(deadline) {
			t.Fatalf("the second run of the key is %s with slot %q; want waiting for the slot the waiting run holds", run.Status, run.ConcurrencySlot)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := client.Cancel(ctx, holder.Run.ID, "customer withdrew", "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if run := awaitRun(t, client, next.Run.ID); run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("after the holder was cancelled the next run ended %s; want completed", run.Status)
	}
	events, err := st.EventList(ctx, next.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []klaxontype.EventType
	for _, event := range events {
		types = append(types, event.Type)
	}
	if !slices.Contains(types, klaxontype.EventRunParked) || !slices.Contains(types, klaxontype.EventRunAdmitted) {
		t.Errorf("the next run's events %v; want run.parked and run.admitted", types)
	}
}

// A concurrency limit below 1 is refused at Register, naming the workflow
// and the option, and registers nothing; a nil key function is a
// programming error caught at once.
func TestConcurrencyKeyBadLimitRefused(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{0, -3} {
		client, err := klaxon.NewClient(openStore(t), fastConfig())
		if err != nil {
			t.Fatal(err)
		}
		bad := klaxon.NewWorkflow("unlimited-orders", func(ctx context.Context, in order) (int, error) {
			return in.N, nil
		}, klaxon.WithConcurrencyKey(func(in order) string { return in.Customer }, limit))
		err = client.Register(echo, bad)
		if !errors.Is(err, klaxontype.ErrInvalid) || !strings.Contains(err.Error(), `"unlimited-orders"`) || !strings.Contains(err.Error(), "WithConcurrencyKey") {
			t.Errorf("Register with limit %d: %v; want ErrInvalid naming the workflow and WithConcurrencyKey", limit, err)
		}
		if _, err := echo.Enqueue(context.Background(), client, document{ID: "1"}); err == nil {
			t.Errorf("after a refused Register, echo was registered anyway")
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("WithConcurrencyKey(nil, 1) did not panic")
		}
	}()
	klaxon.WithConcurrencyKey[order](nil, 1)
}
