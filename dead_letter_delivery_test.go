package klaxon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/webhook"
)

// failingWorkflow fails for good in its step "work" with err.
func failingWorkflow(name string, err error) *klaxon.Workflow[int, int] {
	return klaxon.NewWorkflow(name, func(ctx context.Context, n int) (int, error) {
		return klaxon.Step(ctx, "work", func(context.Context) (int, error) { return 0, err })
	}, fastRetry)
}

// deliveryConfig is fastConfig with handlers on channels and a short outbox
// poll.
func deliveryConfig(channels map[string]klaxon.DeadLetterHandler) *klaxon.Config {
	config := fastConfig()
	config.Channels = channels
	config.DeliveryPollInterval = 10 * time.Millisecond
	return config
}

// deadLetterOfRun returns the dead-letter entry of a dead run, with its
// attempts and deliveries.
func deadLetterOfRun(t testing.TB, st store.Store, workflow, runID string) *klaxontype.DeadLetter {
	t.Helper()
	ctx := context.Background()
	entries, err := st.DLQList(ctx, &store.DLQListParams{Workflow: workflow})
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		if entry.RunID == runID {
			full, err := st.DLQGet(ctx, entry.ID)
			if err != nil {
				t.Fatal(err)
			}
			return full
		}
	}
	t.Fatalf("run %s of %s has no dead-letter entry", runID, workflow)
	return nil
}

// awaitDelivery polls an entry until its one delivery satisfies ready, and
// returns that delivery; it fails the test after timeout.
func awaitDelivery(t testing.TB, st store.Store, entryID string, timeout time.Duration, what string, ready func(*klaxontype.Delivery) bool) *klaxontype.Delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last []*klaxontype.Delivery
	for time.Now().Before(deadline) {
		entry, err := st.DLQGet(context.Background(), entryID)
		if err != nil {
			t.Fatal(err)
		}
		last = entry.Deliveries
		if len(last) > 1 {
			t.Fatalf("entry %s has %d deliveries, want one", entryID, len(last))
		}
		if len(last) == 1 && ready(last[0]) {
			return last[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(last) == 1 {
		t.Fatalf("delivery of entry %s not %s after %v: %+v", entryID, what, timeout, *last[0])
	}
	t.Fatalf("entry %s has no delivery after %v", entryID, timeout)
	return nil
}

func delivered(d *klaxontype.Delivery) bool { return d.State == klaxontype.DeliveryDelivered }

// entryRecorder is a Go callback handler that records the entries it is given.
type entryRecorder struct {
	mu      sync.Mutex
	entries []*klaxontype.DeadLetter
	// fail, when set, decides the outcome of the nth call (from 1).
	fail func(call int) error
}

func (r *entryRecorder) HandleDeadLetter(ctx context.Context, entry *klaxontype.DeadLetter) error {
	r.mu.Lock()
	r.entries = append(r.entries, entry)
	call := len(r.entries)
	r.mu.Unlock()
	if r.fail != nil {
		return r.fail(call)
	}
	return nil
}

func (r *entryRecorder) received() []*klaxontype.DeadLetter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*klaxontype.DeadLetter(nil), r.entries...)
}

// A dead run is delivered once to the Go callback on its channel, which sees
// the whole entry including its attempts, and the entry shows the delivery.
func TestDeadLetterDeliveryCallsGoHandlerOnce(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var recorder entryRecorder
	config := deliveryConfig(map[string]klaxon.DeadLetterHandler{
		"review": klaxon.DeadLetterHandlerFunc(recorder.HandleDeadLetter),
	})
	wf := failingWorkflow("delivery-once", klaxon.Permanent(errors.New("invoice total is negative")))
	client := startClient(t, st, config, wf)
	result, err := wf.Enqueue(context.Background(), client, 7, klaxon.WithEntity("invoice_id", "INV-7"))
	if err != nil {
		t.Fatal(err)
	}
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead {
		t.Fatalf("run is %s, want dead", run.Status)
	}
	entry := deadLetterOfRun(t, st, wf.Name(), run.ID)
	awaitDelivery(t, st, entry.ID, 5*time.Second, "delivered", delivered)
	// Many more polls of the outbox: a delivered notification is not sent again.
	time.Sleep(100 * time.Millisecond)

	got := recorder.received()
	if len(got) != 1 {
		t.Fatalf("handler called %d times, want once", len(got))
	}
	handled := got[0]
	if handled.ID != entry.ID || handled.RunID != run.ID || handled.Class != klaxontype.ClassPermanent ||
		handled.Channel != "review" || !strings.Contains(handled.Reason, "invoice total is negative") ||
		handled.Step == nil || handled.Step.Name != "work" || handled.Entities["invoice_id"] != "INV-7" {
		t.Fatalf("handler got entry %+v", handled)
	}
	if len(handled.Attempts) != 1 || handled.Attempts[0].Class != klaxontype.ClassPermanent {
		t.Fatalf("handler got attempts %+v, want the one failed attempt", handled.Attempts)
	}
	final, err := st.DLQGet(context.Background(), entry.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(final.Deliveries) != 1 {
		t.Fatalf("entry has %d deliveries, want 1", len(final.Deliveries))
	}
	d := final.Deliveries[0]
	if d.State != klaxontype.DeliveryDelivered || d.Attempts != 1 || d.Channel != "review" || d.EntryID != entry.ID ||
		d.DeliveredAt.IsZero() || d.LastError != "" {
		t.Fatalf("delivery = %+v", *d)
	}
	if final.State != klaxontype.DeadLetterOpen {
		t.Fatalf("entry state %s: a delivery must leave the entry open for a person", final.State)
	}
}

// Two clients handling the same channel do not both deliver a notification:
// one claims it, and the other leaves it alone while the first's handler runs.
func TestDeadLetterDeliveryClaimedByOneDispatcher(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var mu sync.Mutex
	calls := make(map[string]int) // entry ID → handler calls across both clients
	slow := klaxon.DeadLetterHandlerFunc(func(ctx context.Context, entry *klaxontype.DeadLetter) error {
		mu.Lock()
		calls[entry.ID]++
		mu.Unlock()
		// Long enough for the other client to poll the outbox many times.
		time.Sleep(150 * time.Millisecond)
		return nil
	})
	wf := failingWorkflow("delivery-two-clients", klaxon.Permanent(errors.New("bad document")))
	first := startClient(t, st, deliveryConfig(map[string]klaxon.DeadLetterHandler{"review": slow}), wf)
	startClient(t, st, deliveryConfig(map[string]klaxon.DeadLetterHandler{"review": slow}), wf)
	var runIDs []string
	for i := range 3 {
		result, err := wf.Enqueue(context.Background(), first, i)
		if err != nil {
			t.Fatal(err)
		}
		runIDs = append(runIDs, result.Run.ID)
	}
	for _, runID := range runIDs {
		awaitRun(t, first, runID)
		entry := deadLetterOfRun(t, st, wf.Name(), runID)
		d := awaitDelivery(t, st, entry.ID, 5*time.Second, "delivered", delivered)
		if d.Attempts != 1 {
			t.Errorf("entry %s delivered in %d attempts, want 1", entry.ID, d.Attempts)
		}
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for id, n := range calls {
		if n != 1 {
			t.Errorf("entry %s was handed to a handler %d times, want once", id, n)
		}
	}
	if len(calls) != len(runIDs) {
		t.Errorf("handlers got %d entries, want %d", len(calls), len(runIDs))
	}
}

// A handler that fails is retried with backoff until it accepts; the entry
// shows each failure while it waits, and the attempt count at the end.
func TestDeadLetterDeliveryRetriesFailingHandler(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out two delivery backoffs (1.5-3 s); skipped in -short mode")
	}
	t.Parallel()
	st := openStore(t)
	recorder := entryRecorder{fail: func(call int) error {
		if call <= 2 {
			return fmt.Errorf("receiver down (call %d)", call)
		}
		return nil
	}}
	config := deliveryConfig(map[string]klaxon.DeadLetterHandler{"review": &recorder})
	wf := failingWorkflow("delivery-retry", klaxon.Permanent(errors.New("bad document")))
	client := startClient(t, st, config, wf)
	result, err := wf.Enqueue(context.Background(), client, 1)
	if err != nil {
		t.Fatal(err)
	}
	run := awaitRun(t, client, result.Run.ID)
	entry := deadLetterOfRun(t, st, wf.Name(), run.ID)
	started := time.Now()

	waiting := awaitDelivery(t, st, entry.ID, 5*time.Second, "failed once", func(d *klaxontype.Delivery) bool { return d.Attempts >= 1 })
	if waiting.State != klaxontype.DeliveryPending || waiting.Attempts != 1 || !strings.Contains(waiting.LastError, "receiver down (call 1)") {
		t.Fatalf("after the first failure, delivery = %+v", *waiting)
	}
	// deliveryBackoff waits at least half a second before the first retry.
	if wait := waiting.NextAttemptAt.Sub(waiting.CreatedAt); wait < 490*time.Millisecond {
		t.Fatalf("first retry scheduled %v after the entry; want backoff of at least 0.5s", wait)
	}
	final := awaitDelivery(t, st, entry.ID, 10*time.Second, "delivered", delivered)
	if final.Attempts != 3 || final.DeliveredAt.IsZero() {
		t.Fatalf("delivery = %+v, want delivered on attempt 3", *final)
	}
	if calls := len(recorder.received()); calls != 3 {
		t.Fatalf("handler called %d times, want 3", calls)
	}
	t.Logf("delivered on attempt 3 after %v of delivery backoff", time.Since(started).Round(time.Millisecond))
}

// A notification whose handler keeps failing, or panics, is given up after
// MaxDeliveryAttempts and stays visible on the entry with its last error.
func TestDeadLetterDeliveryGivesUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		handler   klaxon.DeadLetterHandlerFunc
		wantError string
	}{
		{"error", func(context.Context, *klaxontype.DeadLetter) error { return errors.New("pager quota exceeded") }, "pager quota exceeded"},
		{"panic", func(context.Context, *klaxontype.DeadLetter) error { panic("nil map in handler") }, "panicked: nil map in handler"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t)
			var mu sync.Mutex
			calls := 0
			config := deliveryConfig(map[string]klaxon.DeadLetterHandler{
				"review": klaxon.DeadLetterHandlerFunc(func(ctx context.Context, entry *klaxontype.DeadLetter) error {
					mu.Lock()
					calls++
					mu.Unlock()
					return tc.handler(ctx, entry)
				}),
			})
			config.MaxDeliveryAttempts = 1
			wf := failingWorkflow("delivery-give-up-"+tc.name, klaxon.Permanent(errors.New("bad document")))
			client := startClient(t, st, config, wf)
			result, err := wf.Enqueue(context.Background(), client, 1)
			if err != nil {
				t.Fatal(err)
			}
			run := awaitRun(t, client, result.Run.ID)
			entry := deadLetterOfRun(t, st, wf.Name(), run.ID)
			d := awaitDelivery(t, st, entry.ID, 5*time.Second, "given up", func(d *klaxontype.Delivery) bool { return d.State != klaxontype.DeliveryPending })
			if d.State != klaxontype.DeliveryGivenUp || d.Attempts != 1 || !strings.Contains(d.LastError, tc.wantError) || !d.DeliveredAt.IsZero() {
				t.Fatalf("delivery = %+v", *d)
			}
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			if calls != 1 {
				t.Fatalf("handler called %d times after giving up, want 1", calls)
			}
		})
	}
}

// Dead runs are routed by class: the default table, and Config.Routes, which
// wins over it for the classes it names.
func TestDeadLetterRouteByClass(t *testing.T) {
	t.Parallel()
	policy := failingWorkflow("route-policy", klaxon.PolicyViolation(errors.New("the model refused")))
	permanent := failingWorkflow("route-permanent", klaxon.Permanent(errors.New("unknown customer")))
	transient := failingWorkflow("route-transient", klaxon.Transient(errors.New("connection reset")))
	compensation := klaxon.NewWorkflow("route-compensation", func(ctx context.Context, _ int) (int, error) {
		if _, err := klaxon.Step(ctx, "reserve", func(context.Context) (int, error) { return 1, nil },
			klaxon.Compensate(func(context.Context, int) error { return errors.New("release API down") })); err != nil {
			return 0, err
		}
		return 0, klaxon.Permanent(errors.New("payment declined"))
	}, fastRetry)
	workflows := []*klaxon.Workflow[int, int]{policy, permanent, transient, compensation}
	classes := map[string]klaxontype.FailureClass{
		"route-policy":       klaxontype.ClassPolicyViolation,
		"route-permanent":    klaxontype.ClassPermanent,
		"route-transient":    klaxontype.ClassTransient,
		"route-compensation": klaxontype.ClassCompensationFailed,
	}

	for _, tc := range []struct {
		name   string
		routes map[klaxontype.FailureClass]string
		want   map[string]string // workflow → channel
	}{
		{"default", nil, map[string]string{
			"route-policy": "security", "route-compensation": "ops", "route-permanent": "review", "route-transient": "ops",
		}},
		{"override", map[klaxontype.FailureClass]string{
			klaxontype.ClassPermanent:       "legal",
			klaxontype.ClassPolicyViolation: "trust-and-safety",
		}, map[string]string{
			"route-policy": "trust-and-safety", "route-compensation": "ops", "route-permanent": "legal", "route-transient": "ops",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t)
			recorders := make(map[string]*entryRecorder)
			channels := make(map[string]klaxon.DeadLetterHandler)
			for _, channel := range []string{"review", "security", "ops", "legal", "trust-and-safety"} {
				recorders[channel] = &entryRecorder{}
				channels[channel] = recorders[channel]
			}
			config := deliveryConfig(channels)
			config.Routes = tc.routes
			registrable := make([]klaxon.Registrable, len(workflows))
			for i, wf := range workflows {
				registrable[i] = wf
			}
			client := startClient(t, st, config, registrable...)
			runs := make(map[string]string) // workflow → run ID
			for _, wf := range workflows {
				result, err := wf.Enqueue(context.Background(), client, 1)
				if err != nil {
					t.Fatal(err)
				}
				runs[wf.Name()] = result.Run.ID
			}
			for _, wf := range workflows {
				run := awaitRun(t, client, runs[wf.Name()])
				if run.Status != klaxontype.RunStatusDead || run.Failure.Class != classes[wf.Name()] {
					t.Fatalf("%s: run %s with failure %+v, want dead with %s", wf.Name(), run.Status, run.Failure, classes[wf.Name()])
				}
				entry := deadLetterOfRun(t, st, wf.Name(), run.ID)
				if entry.Channel != tc.want[wf.Name()] || entry.Class != classes[wf.Name()] {
					t.Errorf("%s: %s entry routed to %q, want %q", wf.Name(), entry.Class, entry.Channel, tc.want[wf.Name()])
				}
				d := awaitDelivery(t, st, entry.ID, 5*time.Second, "delivered", delivered)
				if d.Channel != tc.want[wf.Name()] {
					t.Errorf("%s: delivered on channel %q, want %q", wf.Name(), d.Channel, tc.want[wf.Name()])
				}
			}
			// Each channel's handler got exactly the entries routed to it.
			for channel, recorder := range recorders {
				var got []string
				for _, entry := range recorder.received() {
					if entry.Channel != channel {
						t.Errorf("handler of %q got an entry of channel %q", channel, entry.Channel)
					}
					got = append(got, entry.Workflow)
				}
				var want []string
				for _, wf := range workflows {
					if tc.want[wf.Name()] == channel {
						want = append(want, wf.Name())
					}
				}
				if !sameElements(got, want) {
					t.Errorf("channel %q got %v, want %v", channel, got, want)
				}
			}
		})
	}
}

func sameElements(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := make(map[string]int)
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

// The dead-letter crash test's child process and the environment it reads.
const (
	deadLetterWorkerRole = "dead-letter-worker"
	// deadLetterPhaseEnv is "dead-letter" (dead-letter the run, deliver to
	// nothing, print "dead ENTRY_ID", wait to be killed) or "deliver" (deliver
	// the outbox to the webhook, print "delivered ENTRY_ID", exit).
	deadLetterPhaseEnv  = "KLAXON_TEST_DEAD_LETTER_PHASE"
	webhookURLEnv       = "KLAXON_TEST_WEBHOOK_URL"
	webhookSecretEnv    = "KLAXON_TEST_WEBHOOK_SECRET"
	crashWorkflowName   = "charge-order"
	crashChannel        = "review"
	childPollInterval   = 10 * time.Millisecond
	childDuplicateGrace = 200 * time.Millisecond
)

// chargeOrder is the dead-letter crash test's workflow: its one step fails
// for good, so its run is dead-lettered to "review".
func chargeOrder() *klaxon.Workflow[int, int] {
	return failingWorkflow(crashWorkflowName, klaxon.Permanent(errors.New("card declined")))
}

// runDeadLetterWorker is the child process of the dead-letter crash test.
func runDeadLetterWorker() int {
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "dead-letter worker:", err)
		return 1
	}
	st, err := sqlite.Open(ctx, os.Getenv("KLAXON_TEST_DB"), nil)
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	stdout := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(stdout, format+"\n", args...)
		_ = stdout.Flush()
	}
	config := &klaxon.Config{
		Concurrency: 2, PollInterval: childPollInterval, LeaseDuration: 5 * time.Second,
		DeliveryPollInterval: childPollInterval,
		Logger:               slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}

	switch phase := os.Getenv(deadLetterPhaseEnv); phase {
	case "dead-letter":
		// No channels: this process commits the run's death and its outbox
		// row, and is killed before anything delivers it.
		dead := make(chan string, 1)
		config.OnAttempt = func(o *klaxontype.AttemptOutcome) {
			if o.Result == klaxontype.AttemptDead {
				select {
				case dead <- o.RunID:
				default:
				}
			}
		}
		client, err := startChildClient(ctx, st, config)
		if err != nil {
			return fail(err)
		}
		defer func() { _ = client.Stop(ctx) }()
		var runID string
		select {
		case runID = <-dead:
		case <-time.After(10 * time.Second):
			return fail(errors.New("no run was dead-lettered"))
		}
		entries, err := st.DLQList(ctx, &store.DLQListParams{Workflow: crashWorkflowName})
		if err != nil {
			return fail(err)
		}
		for _, entry := range entries {
			if entry.RunID == runID {
				say("dead %s", entry.ID)
			}
		}
		// The test kills this process now; if it does not, give up well after
		// the test's own timeout rather than linger.
		time.Sleep(30 * time.Second)
		return fail(errors.New("was not killed"))

	case "deliver":
		handler, err := webhook.New(os.Getenv(webhookURLEnv), []byte(os.Getenv(webhookSecretEnv)),
			webhook.WithHTTPClient(&http.Client{Timeout: 2 * time.Second}))
		if err != nil {
			return fail(err)
		}
		config.Channels = map[string]klaxon.DeadLetterHandler{crashChannel: handler}
		client, err := startChildClient(ctx, st, config)
		if err != nil {
			return fail(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			pending, err := pendingDeliveries(ctx, st)
			if err != nil {
				return fail(err)
			}
			if pending == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("%d deliveries still pending", pending))
			}
			time.Sleep(childPollInterval)
		}
		// Keep delivering a while: a notification sent twice would show now.
		time.Sleep(childDuplicateGrace)
		if err := client.Stop(ctx); err != nil {
			return fail(err)
		}
		entries, err := st.DLQList(ctx, &store.DLQListParams{Workflow: crashWorkflowName})
		if err != nil {
			return fail(err)
		}
		for _, entry := range entries {
			say("delivered %s", entry.ID)
		}
		return 0

	default:
		return fail(fmt.Errorf("unknown phase %q", phase))
	}
}

func startChildClient(ctx context.Context, st store.Store, config *klaxon.Config) (*klaxon.Client, error) {
	client, err := klaxon.NewClient(st, config)
	if err != nil {
		return nil, err
	}
	if err := client.Register(chargeOrder()); err != nil {
		return nil, err
	}
	return client, client.Start(ctx)
}

// pendingDeliveries counts the crash workflow's notifications not yet
// delivered or given up.
func pendingDeliveries(ctx context.Context, st store.Store) (int, error) {
	entries, err := st.DLQList(ctx, &store.DLQListParams{Workflow: crashWorkflowName})
	if err != nil {
		return 0, err
	}
	pending := 0
	for _, listed := range entries {
		entry, err := st.DLQGet(ctx, listed.ID)
		if err != nil {
			return 0, err
		}
		for _, d := range entry.Deliveries {
			if d.State == klaxontype.DeliveryPending {
				pending++
			}
		}
	}
	return pending, nil
}

// webhookReceiver is the test's webhook endpoint: it checks every request's
// signature and counts deliveries by their Klaxon-Delivery ID.
type webhookReceiver struct {
	secret []byte

	mu            sync.Mutex
	deliveries    map[string]int
	bodies        map[string][]byte
	badSignatures int
	badRequests   []string
}

func (r *webhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 1<<20))
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil:
		r.badRequests = append(r.badRequests, "body: "+err.Error())
		http.Error(w, "unreadable body", http.StatusBadRequest)
	case req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" ||
		req.Header.Get("User-Agent") != webhook.UserAgent:
		r.badRequests = append(r.badRequests, fmt.Sprintf("%s %s %q", req.Method, req.Header.Get("Content-Type"), req.Header.Get("User-Agent")))
		http.Error(w, "not a klaxon webhook", http.StatusBadRequest)
	case !webhook.Verify(r.secret, body, req.Header.Get(webhook.SignatureHeader)):
		r.badSignatures++
		http.Error(w, "bad signature", http.StatusUnauthorized)
	default:
		id := req.Header.Get(webhook.DeliveryHeader)
		r.deliveries[id]++
		r.bodies[id] = body
		w.WriteHeader(http.StatusNoContent)
	}
}

func (r *webhookReceiver) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0
	for _, n := range r.deliveries {
		total += n
	}
	return total + r.badSignatures + len(r.badRequests)
}

// awaitChildLine returns the first line the child prints with prefix, without
// the prefix; it fails the test if the child exits or timeout passes first.
func awaitChildLine(t *testing.T, child *childProcess, prefix string, timeout time.Duration) string {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-child.lines:
			if !ok {
				t.Fatalf("the child exited before printing %q", prefix)
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest
			}
		case <-timer.C:
			t.Fatalf("the child printed no %q line within %v", prefix, timeout)
		}
	}
}

// TestWebhookDeliverySurvivesCrashBetweenDeadAndDelivered kills a worker
// process right after it committed a run's death, before any notification
// left it, and restarts a worker with a webhook on the entry's channel: the
// outbox row committed with the death makes the webhook arrive, signed, once.
func TestWebhookDeliverySurvivesCrashBetweenDeadAndDelivered(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts and kills worker processes; skipped in -short mode")
	}
	started := time.Now()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "dead-letter-crash.db")
	st, err := sqlite.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	receiver := &webhookReceiver{
		secret: []byte("crash-test-secret"), deliveries: make(map[string]int), bodies: make(map[string][]byte),
	}
	server := httptest.NewServer(receiver)
	defer server.Close()

	producer, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	workflow := chargeOrder()
	if err := producer.Register(workflow); err != nil {
		t.Fatal(err)
	}
	enqueued, err := workflow.Enqueue(ctx, producer, 42, klaxon.WithEntity("order_id", "42"))
	if err != nil {
		t.Fatal(err)
	}
	runID := enqueued.Run.ID

	// Phase one: the run dies, and the worker is killed before delivering.
	first := startChild(t, deadLetterWorkerRole, dbPath, "", deadLetterPhaseEnv+"=dead-letter")
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = first.cmd.Process.Kill()
			_ = first.cmd.Wait()
		}
	})
	entryID := awaitChildLine(t, first, "dead ", 5*time.Second)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	killed = true

	run, err := st.RunGet(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != klaxontype.RunStatusDead {
		t.Fatalf("run is %s after the kill, want dead", run.Status)
	}
	entry, err := st.DLQGet(ctx, entryID)
	if err != nil {
		t.Fatal(err)
	}
	if entry.RunID != runID || len(entry.Deliveries) != 1 || entry.Deliveries[0].State != klaxontype.DeliveryPending ||
		entry.Deliveries[0].Attempts != 0 || entry.Deliveries[0].Channel != crashChannel {
		t.Fatalf("after the kill: entry of run %s with deliveries %+v; want one pending, never attempted, on %q",
			entry.RunID, entry.Deliveries, crashChannel)
	}
	if n := receiver.total(); n != 0 {
		t.Fatalf("the receiver got %d requests before the restart", n)
	}

	// Phase two: a restarted worker with the webhook delivers what the dead
	// process left in the outbox.
	second := startChild(t, deadLetterWorkerRole, dbPath, "",
		deadLetterPhaseEnv+"=deliver", webhookURLEnv+"="+server.URL+"/hooks/klaxon",
		webhookSecretEnv+"="+string(receiver.secret))
	exited := make(chan error, 1)
	var secondLines []string
	go func() {
		for line := range second.lines {
			secondLines = append(secondLines, line)
		}
		exited <- second.cmd.Wait()
	}()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("second worker: %v", err)
		}
		if !slices.Contains(secondLines, "delivered "+entryID) {
			t.Fatalf("second worker printed %q, want it to report entry %s delivered", secondLines, entryID)
		}
	case <-time.After(10 * time.Second):
		_ = second.cmd.Process.Kill()
		<-exited
		t.Fatal("the second worker did not deliver and exit within 10s")
	}

	receiver.mu.Lock()
	defer receiver.mu.Unlock()
	if receiver.badSignatures != 0 || len(receiver.badRequests) != 0 {
		t.Fatalf("receiver refused %d requests for their signature and these as malformed: %v",
			receiver.badSignatures, receiver.badRequests)
	}
	if len(receiver.deliveries) != 1 || receiver.deliveries[entryID] != 1 {
		t.Fatalf("receiver got deliveries %v, want entry %s exactly once", receiver.deliveries, entryID)
	}
	var delivered klaxontype.DeadLetter
	if err := json.Unmarshal(receiver.bodies[entryID], &delivered); err != nil {
		t.Fatalf("webhook body %s: %v", receiver.bodies[entryID], err)
	}
	if delivered.ID != entryID || delivered.RunID != runID || delivered.Class != klaxontype.ClassPermanent ||
		delivered.Channel != crashChannel || delivered.Workflow != crashWorkflowName || !strings.Contains(delivered.Reason, "card declined") ||
		delivered.Step == nil || delivered.Step.Name != "work" || delivered.Entities["order_id"] != "42" ||
		len(delivered.Attempts) != 1 || string(delivered.Input) != "42" {
		t.Fatalf("webhook delivered entry %+v", delivered)
	}

	final, err := st.DLQGet(ctx, entryID)
	if err != nil {
		t.Fatal(err)
	}
	if len(final.Deliveries) != 1 {
		t.Fatalf("entry has %d deliveries, want 1", len(final.Deliveries))
	}
	if d := final.Deliveries[0]; d.State != klaxontype.DeliveryDelivered || d.Attempts != 1 || d.DeliveredAt.IsZero() || d.LastError != "" {
		t.Fatalf("delivery after the restart = %+v", *d)
	}
	t.Logf("dead-lettered, killed, restarted and delivered in %v", time.Since(started).Round(time.Millisecond))
}
