package openai

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
	"github.com/klaxonhq/klaxon/sqlite"
)

// TestA429BlocksTheSharedRateLimit: the provider refuses a call with a 429
// and Retry-After: 1 although the shared limit had room (its count is the
// truth). The refused run's worker blocks the limit until then, and a run of
// another worker, started during the block, waits for it instead of calling
// and being refused too; the refused run retries after its Retry-After and
// completes. The provider saw one 429 and no call during the block.
func TestA429BlocksTheSharedRateLimit(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls []time.Time // when each request reached the provider
	server := newFakeServer(t, func(t *testing.T, w http.ResponseWriter, r *http.Request, request wireRequest) {
		mu.Lock()
		calls = append(calls, time.Now())
		first := len(calls) == 1
		mu.Unlock()
		if first {
			writeError(w, http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, wireErrorBody{
				Message: "Rate limit reached for gpt-4o-mini in organization org-abc on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 1s.",
				Type:    "requests", Code: stringPointer("rate_limit_exceeded"),
			})
			return
		}
		content := "a summary"
		writeCompletion(t, w, completion("gpt-4o-mini-2024-07-18", wireMessage{Content: &content}, "stop", 20, 5, 0))
	})
	provider := server.provider()
	ask := func(name string) *klaxon.Workflow[string, string] {
		return klaxon.NewWorkflow(name, func(ctx context.Context, invoice string) (string, error) {
			response, err := llm.Call(ctx, provider, "summarise", &llm.Request{
				Model: "gpt-4o-mini", Messages: []llm.Message{{Role: llm.RoleUser, Content: "Summarise invoice " + invoice}},
			})
			if err != nil {
				return "", err
			}
			return response.Content, nil
		}, klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	}

	// Two worker processes' clients on one database, each with a workflow of
	// its own, under one limit with room for 500 calls a minute.
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	start := func(wf *klaxon.Workflow[string, string]) *klaxon.Client {
		client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond, ShutdownGrace: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Register(wf); err != nil {
			t.Fatal(err)
		}
		if err := client.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Stop(context.Background()) })
		return client
	}
	first, second := ask("ask-first"), ask("ask-second")
	firstWorker, secondWorker := start(first), start(second)
	if err := firstWorker.DeclareRateLimits(ctx, klaxon.RateLimit{Key: "openai/gpt-4o-mini", Requests: 500, Per: time.Minute}); err != nil {
		t.Fatal(err)
	}

	refused, err := first.Enqueue(ctx, firstWorker, "41")
	if err != nil {
		t.Fatal(err)
	}
	// Once the refusal is recorded, the other worker's run starts.
	var blocked *klaxontype.Event
	deadline := time.Now().Add(10 * time.Second)
	for blocked == nil {
		events, err := st.EventList(ctx, refused.Run.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Type == klaxontype.EventRateLimitBlocked {
				blocked = e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rate_limit.blocked event after 10 s; events: %+v", events)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if blocked.Step != "summarise" || blocked.StepSeq != 1 || !strings.Contains(blocked.Message, "openai/gpt-4o-mini") ||
		!strings.Contains(blocked.Message, "HTTP 429") {
		t.Errorf("the block's event = %+v; want the step, the limit and the provider's refusal", blocked)
	}
	waiting, err := second.Enqueue(ctx, secondWorker, "42")
	if err != nil {
		t.Fatal(err)
	}

	for _, run := range []struct {
		client *klaxon.Client
		id     string
	}{{firstWorker, refused.Run.ID}, {secondWorker, waiting.Run.ID}} {
		awaitCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		ended, err := run.client.AwaitRun(awaitCtx, run.id)
		cancel()
		if err != nil || ended.Status != klaxontype.RunStatusCompleted {
			t.Fatalf("run %s ended %+v (%v); want completed", run.id, ended, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 3 {
		t.Fatalf("the provider saw %d calls; want 3: the refused one, the other worker's and the retry", len(calls))
	}
	// Nothing reached the provider before its Retry-After had passed (the
	// block is counted from when the worker saw the 429, a little after).
	for i, at := range calls[1:] {
		if gap := at.Sub(calls[0]); gap < time.Second-50*time.Millisecond {
			t.Errorf("call %d reached the provider %s after the 429; want at least its Retry-After, 1 s", i+2, gap)
		}
	}
	// The other worker's step waited for the capacity, in its step record.
	steps, err := st.StepList(ctx, waiting.Run.ID)
	if err != nil || len(steps) != 1 {
		t.Fatalf("steps %+v (%v)", steps, err)
	}
	if steps[0].RateLimitWait < 500*time.Millisecond {
		t.Errorf("the other worker's step waited %s for its rate limit; want most of the block", steps[0].RateLimitWait)
	}
}
