package engine

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// tallyStore is a real SQLite store whose BreakerTally reads are counted, and
// fail when fail is set: a database that went away for reads.
type tallyStore struct {
	store.Store
	reads atomic.Int32
	fail  atomic.Bool
}

func (s *tallyStore) BreakerTally(ctx context.Context, params *store.BreakerTallyParams) (*store.BreakerTally, error) {
	s.reads.Add(1)
	if s.fail.Load() {
		return nil, errors.New("connection refused")
	}
	return s.Store.BreakerTally(ctx, params)
}

func openTallyStore(t *testing.T) *tallyStore {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "breaker.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &tallyStore{Store: st}
}

// A workflow without a breaker policy or spend limit never reads the store; one
// with a policy reads it at most once per interval however many attempts end.
func TestBreakerReadsTheStoreAtMostOncePerInterval(t *testing.T) {
	t.Parallel()
	st := openTallyStore(t)
	watch := newBreakerWatch(st, time.Second, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	start := time.Now()

	plain := &Definition{Name: "plain"}
	for i := range 1000 {
		if reason, _, _ := watch.observe(ctx, plain, i%2 == 0, klaxontype.Spend{Cost: klaxontype.KnownCost(1)}, start); reason != "" {
			t.Fatalf("a workflow without a breaker tripped: %s", reason)
		}
	}
	if n := st.reads.Load(); n != 0 {
		t.Fatalf("a workflow without a breaker read the store %d times", n)
	}

	guarded := &Definition{Name: "guarded", SpendRateLimit: 1000,
		Breaker: klaxontype.BreakerPolicy{Window: time.Minute, MinAttempts: 10_000, FailureRate: 0.5}}
	for i := range 1000 {
		now := start.Add(time.Duration(i) * time.Millisecond / 2) // 1000 attempts in half a second
		if reason, _, _ := watch.observe(ctx, guarded, false, klaxontype.Spend{Cost: klaxontype.KnownCost(0.01)}, now); reason != "" {
			t.Fatalf("tripped: %s", reason)
		}
	}
	if n := st.reads.Load(); n != 1 {
		t.Fatalf("1000 attempts in half a second read the store %d times; want once", n)
	}
	watch.observe(ctx, guarded, false, klaxontype.Spend{}, start.Add(1100*time.Millisecond))
	if n := st.reads.Load(); n != 2 {
		t.Fatalf("after the interval the store was read %d times in all; want twice", n)
	}
}

// When the store cannot be read, the breaker judges by what this worker saw,
// as it did before the store kept a tally, says so in the log, and the worker
// goes on.
func TestBreakerFallsBackToItsOwnViewWhenTheStoreFails(t *testing.T) {
	t.Parallel()
	st := openTallyStore(t)
	st.fail.Store(true)
	var logs bytes.Buffer
	watch := newBreakerWatch(st, time.Second, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()
	stormy := &Definition{Name: "stormy", Breaker: klaxontype.BreakerPolicy{Window: time.Minute, MinAttempts: 3, FailureRate: 1}}
	start := time.Now()
	var reason string
	var class klaxontype.FailureClass
	for i := range 3 {
		reason, class, _ = watch.observe(ctx, stormy, true, klaxontype.Spend{}, start.Add(time.Duration(i)*200*time.Millisecond))
	}
	if !strings.HasPrefix(reason, "retry storm: 3 of the last 3 attempts failed") || strings.Contains(reason, "across all workers") ||
		class != klaxontype.ClassTransient {
		t.Fatalf("reason %q, class %s; want this worker's own storm", reason, class)
	}
	if !strings.Contains(logs.String(), "judges by this worker's attempts alone") || !strings.Contains(logs.String(), "connection refused") {
		t.Fatalf("the failed read was not logged: %s", logs.String())
	}

	// Spend this worker alone saw over the limit trips at once, store or not.
	pricey := &Definition{Name: "pricey", SpendRateLimit: 2.5}
	for i := range 3 {
		reason, class, _ = watch.observe(ctx, pricey, false, klaxontype.Spend{Cost: klaxontype.KnownCost(1)}, start.Add(time.Duration(i)*time.Millisecond))
	}
	if reason != "spend rate: $3.0000 in the last hour exceeds the limit of $2.50/h" || class != klaxontype.ClassBudgetExceeded {
		t.Fatalf("reason %q, class %s", reason, class)
	}
}

// Spend this worker saw over the limit trips the breaker even when the store
// holds less of it (a failed step's spend inside an attempt that completed is
// in the run's totals only): spend only adds up across workers.
func TestBreakerTripsOnItsOwnShareOverTheLimit(t *testing.T) {
	t.Parallel()
	st := openTallyStore(t)
	watch := newBreakerWatch(st, time.Hour, slog.New(slog.DiscardHandler))
	pricey := &Definition{Name: "pricey", SpendRateLimit: 2.5}
	start := time.Now()
	var reason string
	for i := range 3 {
		reason, _, _ = watch.observe(context.Background(), pricey, false, klaxontype.Spend{Cost: klaxontype.KnownCost(1)}, start.Add(time.Duration(i)*time.Millisecond))
	}
	if reason != "spend rate: $3.0000 in the last hour exceeds the limit of $2.50/h" {
		t.Fatalf("reason %q", reason)
	}
	if n := st.reads.Load(); n != 2 {
		t.Fatalf("the store was read %d times; want the first read and one at the trip, to name its figures", n)
	}
	unpriced := &Definition{Name: "unpriced", SpendRateLimit: 2.5}
	reason, _, _ = watch.observe(context.Background(), unpriced, false, klaxontype.Spend{Cost: klaxontype.UnknownCost()}, start)
	if !strings.Contains(reason, "an attempt's cost is unknown") {
		t.Fatalf("an unknown cost this worker saw gave reason %q", reason)
	}
}

// The reads of a busy workflow are spaced by the attempts its last read
// counted, so that reading a large window does not take a core.
func TestBreakerSpacesTheReadsOfABusyWorkflow(t *testing.T) {
	t.Parallel()
	watch := newBreakerWatch(openTallyStore(t), time.Second, slog.New(slog.DiscardHandler))
	start := time.Now()
	watch.reads["busy"] = &tallyRead{at: start, attempts: 200_000}
	for _, c := range []struct {
		after time.Duration
		local breakerVerdict
		due   bool
	}{
		{after: 1500 * time.Millisecond, due: false},
		{after: 1500 * time.Millisecond, local: breakerVerdict{reason: "retry storm"}, due: false},
		{after: 1500 * time.Millisecond, local: breakerVerdict{reason: "spend rate", certain: true}, due: true},
	} {
		watch.reads["busy"].at, watch.reads["busy"].busy = start, false
		if due := watch.readDue("busy", start.Add(c.after), c.local); due != c.due {
			t.Errorf("200,000 attempts, %s after the last read, own verdict %+v: due %v; want %v", c.after, c.local, due, c.due)
		}
	}
	watch.reads["busy"].at, watch.reads["busy"].busy = start, false
	if !watch.readDue("busy", start.Add(2100*time.Millisecond), breakerVerdict{}) {
		t.Error("200,000 attempts, 2.1s after the last read: not due; want due (10µs an attempt)")
	}
}
