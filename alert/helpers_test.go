package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/webhook"
)

// hookSecret signs the json target's notifications.
var hookSecret = []byte("alert-test-secret-0123456789")

// received is one notification a receiver got.
type received struct {
	Event    string
	Delivery string
	Body     []byte
	Signed   bool
}

// receiver is an httptest webhook receiver that records every POST, in
// order, and answers 200 (or, while failing is set, 503).
type receiver struct {
	t       *testing.T
	server  *httptest.Server
	mu      sync.Mutex
	got     []received
	failing atomic.Bool
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.failing.Load() {
			http.Error(w, "receiver down for maintenance", http.StatusServiceUnavailable)
			return
		}
		r.mu.Lock()
		r.got = append(r.got, received{
			Event: req.Header.Get(webhook.EventHeader), Delivery: req.Header.Get(webhook.DeliveryHeader), Body: body,
			Signed: webhook.Verify(hookSecret, body, req.Header.Get(webhook.SignatureHeader)),
		})
		r.mu.Unlock()
	}))
	t.Cleanup(r.server.Close)
	return r
}

// take returns what arrived since the last take.
func (r *receiver) take() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// notifications decodes what a json target received since the last take.
func (r *receiver) notifications() []*alert.Notification {
	r.t.Helper()
	var out []*alert.Notification
	for _, got := range r.take() {
		if !got.Signed {
			r.t.Errorf("notification %s is not signed with the target's secret", got.Delivery)
		}
		n := &alert.Notification{}
		if err := json.Unmarshal(got.Body, n); err != nil {
			r.t.Fatalf("notification body %s: %v", got.Body, err)
		}
		if got.Event != alert.EventHeaderValue(n.Event) || got.Delivery != alert.DeliveryID(n) {
			r.t.Errorf("headers %q %q do not match the body's %s of %s", got.Event, got.Delivery, n.Event, n.Alert.ID)
		}
		out = append(out, n)
	}
	return out
}

// fakeClock is a clock tests set by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// harness is a store, a fake clock, a receiver, and an evaluator and a
// notifier of a rule notifying the receiver.
type harness struct {
	t         *testing.T
	ctx       context.Context
	openStore func() (store.Store, error)
	store     store.Store
	clock     *fakeClock
	hook      *receiver
	config    *alert.Config
	evaluator *alert.Evaluator
	notifier  *alert.Notifier
}

// newHarness opens a new SQLite store and evaluates rules, each notifying
// the json target "hook".
func newHarness(t *testing.T, rules ...*alert.Rule) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "klaxon.db")
	h := &harness{t: t, ctx: t.Context(), clock: &fakeClock{now: time.Now()}}
	h.openStore = func() (store.Store, error) { return sqlite.Open(h.ctx, path, nil) }
	h.hook = newReceiver(t)
	for _, r := range rules {
		r.Notify = []string{"hook"}
	}
	h.config = &alert.Config{
		Rules:   rules,
		Targets: []*alert.Target{{Name: "hook", URL: h.hook.server.URL, Format: alert.FormatJSON, Secret: hookSecret}},
	}
	h.open("notifier-1")
	return h
}

// open opens the store (again) with a new evaluator and notifier, as a
// server starting on the database does.
func (h *harness) open(holder string) {
	h.t.Helper()
	st, err := h.openStore()
	if err != nil {
		h.t.Fatalf("open store: %v", err)
	}
	h.t.Cleanup(func() { st.Close() })
	h.store = st
	h.evaluator = alert.NewEvaluator(st, h.config, h.clock.Now, nil)
	h.notifier = alert.NewNotifier(st, h.config, alert.NotifierOptions{Holder: holder})
}

// at evaluates the rules at a time and delivers what the evaluation
// recorded, returning the notifications the receiver got.
func (h *harness) at(t time.Time) []*alert.Notification {
	h.t.Helper()
	h.clock.Set(t)
	if _, err := h.evaluator.Evaluate(h.ctx); err != nil {
		h.t.Fatalf("Evaluate at %s: %v", t, err)
	}
	h.deliver()
	return h.hook.notifications()
}

// deliver posts every due notification.
func (h *harness) deliver() {
	h.t.Helper()
	for {
		n, err := h.notifier.DeliverDue(h.ctx)
		if err != nil {
			h.t.Fatalf("DeliverDue: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

// expect checks that notifications are exactly the events given, of one
// alert of the rule, numbered in order from first, and returns the alerts.
func (h *harness) expect(got []*alert.Notification, rule string, first int, events ...klaxontype.AlertEvent) []*klaxontype.Alert {
	h.t.Helper()
	if len(got) != len(events) {
		descriptions := []string{}
		for _, n := range got {
			descriptions = append(descriptions, string(n.Event)+" "+n.Alert.Summary)
		}
		h.t.Fatalf("got %d notifications %q; want %v", len(got), descriptions, events)
	}
	alerts := make([]*klaxontype.Alert, len(got))
	for i, n := range got {
		if n.Event != events[i] || n.Sequence != first+i || n.Alert.Rule != rule {
			h.t.Errorf("notification %d = %s #%d of rule %s; want %s #%d of %s", i, n.Event, n.Sequence, n.Alert.Rule, events[i], first+i, rule)
		}
		alerts[i] = n.Alert
	}
	return alerts
}

// firing lists the alerts firing now.
func (h *harness) firing() []*klaxontype.Alert {
	h.t.Helper()
	alerts, err := h.store.AlertList(h.ctx, &store.AlertListParams{States: []klaxontype.AlertState{klaxontype.AlertFiring}})
	if err != nil {
		h.t.Fatalf("AlertList: %v", err)
	}
	return alerts
}

// register records a workflow as a worker would.
func (h *harness) register(workflow string) {
	h.t.Helper()
	if err := h.store.WorkflowRegister(h.ctx, &store.WorkflowRegisterParams{Name: workflow, Version: 1}); err != nil {
		h.t.Fatalf("WorkflowRegister: %v", err)
	}
}

func newID() string { return ulid.Make().String() }

// enqueue creates a pending run of a workflow.
func (h *harness) enqueue(workflow string) *klaxontype.Run {
	h.t.Helper()
	run, _, err := h.store.RunEnqueue(h.ctx, &store.RunEnqueueParams{
		ID: newID(), Workflow: workflow, WorkflowVersion: 1, Input: []byte(`{}`), Actor: "test",
	})
	if err != nil {
		h.t.Fatalf("RunEnqueue: %v", err)
	}
	return run
}

// claim takes the workflow's next run for a worker.
func (h *harness) claim(workflow string) *klaxontype.Run {
	h.t.Helper()
	claimed, err := h.store.RunsClaim(h.ctx, &store.RunsClaimParams{
		Holder: "worker", Workflows: []string{workflow}, Limit: 1, LeaseDuration: time.Hour,
	})
	if err != nil || len(claimed) != 1 {
		h.t.Fatalf("RunsClaim of %s: %d runs, %v", workflow, len(claimed), err)
	}
	return claimed[0].Run
}

// dead enqueues a run that a worker fails for good with a class, and
// returns its dead-letter entry.
func (h *harness) dead(workflow string, class klaxontype.FailureClass) *klaxontype.DeadLetter {
	h.t.Helper()
	h.enqueue(workflow)
	run := h.claim(workflow)
	entryID := newID()
	err := h.store.RunFail(h.ctx, &store.RunFailParams{
		Lease: store.Lease{RunID: run.ID, Epoch: run.Epoch}, Holder: "worker",
		Attempt: &klaxontype.Attempt{RunID: run.ID, Attempt: run.Attempt, At: time.Now(), Worker: "worker",
			Class: class, Message: "failed on purpose", ClassifiedBy: "error"},
		Next:       klaxontype.RunStatusDead,
		Failure:    &klaxontype.RunFailure{Class: class, Reason: "failed on purpose"},
		DeadLetter: &store.DeadLetterParams{ID: entryID, Channel: "review"},
	})
	if err != nil {
		h.t.Fatalf("RunFail: %v", err)
	}
	entry, err := h.store.DLQGet(h.ctx, entryID)
	if err != nil {
		h.t.Fatalf("DLQGet: %v", err)
	}
	return entry
}

// complete enqueues a run that a worker completes at a cost, and returns it.
func (h *harness) complete(workflow string, usd float64) *klaxontype.Run {
	h.t.Helper()
	h.enqueue(workflow)
	run := h.claim(workflow)
	h.finish(run, usd)
	return h.get(run.ID)
}

// finish completes a held run at a cost.
func (h *harness) finish(run *klaxontype.Run, usd float64) {
	h.t.Helper()
	err := h.store.RunComplete(h.ctx, &store.RunCompleteParams{
		Lease: store.Lease{RunID: run.ID, Epoch: run.Epoch}, Holder: "worker", Output: []byte(`{}`),
		Spend: klaxontype.Spend{Cost: klaxontype.KnownCost(usd), ModelCalls: 1, Usage: klaxontype.TokenUsage{InputTokens: 100, OutputTokens: 10}},
	})
	if err != nil {
		h.t.Fatalf("RunComplete: %v", err)
	}
}

func (h *harness) get(id string) *klaxontype.Run {
	h.t.Helper()
	run, err := h.store.RunGet(h.ctx, id)
	if err != nil {
		h.t.Fatalf("RunGet: %v", err)
	}
	return run
}
