package http_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
)

// A worker of the protocol declares its concurrency key as a JSON path: the
// server judges each claimed run under it, hands out one run of a customer
// at a time, keeps the others pending, and admits the next when the holder
// completes; runs with nothing at the path are not limited.
func TestWorkerProtocolConcurrencyKeyHandsOutOneRunPerKey(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.register(protocol.HostedWorkflow{Name: "fulfil", Version: 1,
		Concurrency: &protocol.ConcurrencySettings{Key: "$.customer.id", Limit: 1}})
	first := f.enqueue("fulfil", `{"customer":{"id":"acme"}}`)
	second := f.enqueue("fulfil", `{"customer":{"id":"acme"}}`)
	anonymous := f.enqueue("fulfil", `{"customer":{}}`)

	claimed := f.claim("fulfil", time.Second)
	got := map[string]protocol.ClaimedRun{}
	for _, run := range claimed {
		got[run.RunID] = run
	}
	if len(got) != 2 || got[first].RunID == "" || got[anonymous].RunID == "" {
		t.Fatalf("the first claim handed out %v; want the first run of acme and the run without a customer", keysOf(got))
	}
	waiting := f.awaitStatus(second, klaxontype.RunStatusPending)
	if waiting.ConcurrencySlot != klaxontype.SlotWaiting || waiting.ConcurrencyKey != "acme" {
		t.Fatalf("the second run of acme: slot %q, key %q; want waiting, acme", waiting.ConcurrencySlot, waiting.ConcurrencyKey)
	}
	if again := f.claim("fulfil", 50*time.Millisecond); len(again) != 0 {
		t.Fatalf("a claim while acme's slot is held handed out %d runs", len(again))
	}

	done := outcome(got[first], protocol.ResultCompleted)
	done.Output = []byte(`"shipped"`)
	f.post("/runs/"+first+"/outcome", done, http.StatusOK, nil)
	next := f.claim("fulfil", 2*time.Second)
	if len(next) != 1 || next[0].RunID != second {
		t.Fatalf("after the holder completed the claim handed out %v; want %s", next, second)
	}
}

// A concurrency key that is not a path, or a limit below 1, is refused at
// registration with a 422 naming the field, and registers nothing.
func TestWorkerProtocolRefusesABadConcurrencyKey(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	for _, bad := range []struct {
		concurrency protocol.ConcurrencySettings
		field       string
	}{
		{protocol.ConcurrencySettings{Key: "$.customer", Limit: 0}, "concurrency.limit"},
		{protocol.ConcurrencySettings{Key: "$.customer", Limit: -1}, "concurrency.limit"},
		{protocol.ConcurrencySettings{Key: "customer", Limit: 1}, "concurrency.key"},
		{protocol.ConcurrencySettings{Key: "$.items[*].customer", Limit: 1}, "concurrency.key"},
	} {
		f.post("/register", protocol.RegisterRequest{
			Worker:    protocol.WorkerInfo{ID: "py-1", Language: "python"},
			Workflows: []protocol.HostedWorkflow{{Name: "fulfil", Version: 1, Concurrency: &bad.concurrency}},
		}, http.StatusUnprocessableEntity, nil).wantProblem(t, http.StatusUnprocessableEntity, bad.field)
	}
	f.post("/claim", protocol.ClaimRequest{WorkerID: "py-1", Workflows: []string{"fulfil"}, Limit: 1}, http.StatusNotFound, nil)
}

func keysOf(runs map[string]protocol.ClaimedRun) []string {
	keys := make([]string, 0, len(runs))
	for id := range runs {
		keys = append(keys, id)
	}
	return keys
}
