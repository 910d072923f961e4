package llm_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
	"github.com/klaxonhq/klaxon/sqlite"
)

// countingProvider answers every request the same way and counts the calls
// that reached it.
type countingProvider struct {
	calls atomic.Int32
	model string
}

func (p *countingProvider) Name() string { return "fake" }

func (p *countingProvider) Complete(ctx context.Context, request *llm.Request) (*llm.Response, error) {
	p.calls.Add(1)
	return &llm.Response{
		Model: p.model, Content: "answer to " + request.Messages[len(request.Messages)-1].Content, FinishReason: "stop",
		Usage: klaxontype.TokenUsage{InputTokens: 1000, OutputTokens: 500, CachedTokens: 400},
	}, nil
}

func startClient(t testing.TB, workflows ...klaxon.Registrable) *klaxon.Client {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "llm.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	client, _ := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err := client.Register(workflows...); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
	return client
}

var fastRetry = klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})

// A recorded model call is replayed, not re-invoked, when a later step fails
// and the run is retried; its usage and cost are stored and counted once.
func TestCallIsReplayedNotReinvoked(t *testing.T) {
	t.Parallel()
	provider := &countingProvider{model: "gpt-4o-mini-2024-07-18"}
	var publishes atomic.Int32
	wf := klaxon.NewWorkflow("summarize", func(ctx context.Context, doc string) (string, error) {
		response, err := llm.Call(ctx, provider, "summarize", &llm.Request{
			Model: "gpt-4o-mini", Messages: []llm.Message{{Role: llm.RoleUser, Content: doc}},
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "publish", func(context.Context) (string, error) {
			if publishes.Add(1) == 1 {
				return "", errors.New("CMS unavailable")
			}
			return response.Content, nil
		})
	}, fastRetry)
	client := startClient(t, wf)
	result, _ := wf.Enqueue(context.Background(), client, "the report")
	out, err := wf.Await(context.Background(), client, result.Run.ID)
	if err != nil || out != "answer to the report" {
		t.Fatalf("output %q, %v", out, err)
	}
	if provider.calls.Load() != 1 {
		t.Fatalf("the provider was called %d times; the retry must replay the stored response", provider.calls.Load())
	}
	run, _ := client.Run(context.Background(), result.Run.ID)
	// gpt-4o-mini: 600 input at $0.15/M, 400 cached at $0.075/M, 500 output at $0.60/M.
	wantUSD := (600*0.15 + 400*0.075 + 500*0.60) / 1e6
	if run.Spend.ModelCalls != 1 || run.Spend.Usage.InputTokens != 1000 || run.Spend.Cost.Unknown || diff(run.Spend.Cost.USD, wantUSD) > 1e-12 {
		t.Fatalf("run spend = %+v; want one call costing $%.8f", run.Spend, wantUSD)
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}

// A model missing from the price table has an unknown cost.
func TestUnknownModelPriceIsUnknown(t *testing.T) {
	t.Parallel()
	provider := &countingProvider{model: "my-finetune-v3"}
	wf := klaxon.NewWorkflow("finetuned", func(ctx context.Context, doc string) (string, error) {
		response, err := llm.Call(ctx, provider, "ask", &llm.Request{Model: "my-finetune-v3", Messages: []llm.Message{{Role: llm.RoleUser, Content: doc}}})
		if err != nil {
			return "", err
		}
		return response.Cost.String(), nil
	})
	client := startClient(t, wf)
	result, _ := wf.Enqueue(context.Background(), client, "x")
	out, err := wf.Await(context.Background(), client, result.Run.ID)
	run, _ := client.Run(context.Background(), result.Run.ID)
	if err != nil || out != "unknown" || !run.Spend.Cost.Unknown {
		t.Fatalf("cost %q, run cost %+v, %v; want unknown", out, run.Spend.Cost, err)
	}
}

// A replayed call whose prompt changed is nondeterminism: the stored answer
// belongs to another question.
func TestChangedPromptOnReplayIsNondeterminism(t *testing.T) {
	t.Parallel()
	provider := &countingProvider{model: "gpt-4o"}
	var attempt atomic.Int32
	wf := klaxon.NewWorkflow("drift", func(ctx context.Context, doc string) (string, error) {
		n := attempt.Add(1)
		prompt := doc
		if n > 1 {
			prompt = doc + " (reworded by a deploy)"
		}
		if _, err := llm.Call(ctx, provider, "ask", &llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Content: prompt}}}); err != nil {
			return "", err
		}
		if n == 1 {
			return "", klaxon.Transient(errors.New("later step failed"))
		}
		return "done", nil
	}, fastRetry)
	client := startClient(t, wf)
	result, _ := wf.Enqueue(context.Background(), client, "x")
	run, _ := client.AwaitRun(context.Background(), result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassNondeterminism || !strings.Contains(run.Failure.Reason, "request changed") {
		t.Fatalf("run %s, failure %+v", run.Status, run.Failure)
	}
	if provider.calls.Load() != 1 {
		t.Fatalf("provider called %d times", provider.calls.Load())
	}
}

func TestPricesLookupAndLoad(t *testing.T) {
	t.Parallel()
	if price, ok := llm.DefaultPrices.Lookup("gpt-4o-mini-2024-07-18"); !ok || price.Input != 0.15 {
		t.Fatalf("dated model: %+v, %v; want gpt-4o-mini's price, not gpt-4o's", price, ok)
	}
	if _, ok := llm.DefaultPrices.Lookup("gpt-4"); ok {
		t.Fatal("gpt-4 must not match gpt-4o")
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "prices.json")
	_ = os.WriteFile(good, []byte(`{"my-finetune-v3": {"input": 1, "output": 2}, "gpt-4o": {"input": 2, "output": 8}}`), 0o644)
	prices, err := llm.LoadPrices(good)
	if err != nil || prices["my-finetune-v3"].Output != 2 || prices["gpt-4o"].Input != 2 || prices["claude-sonnet-4"].Input != 3 {
		t.Fatalf("loaded %v, %v", prices, err)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"x": {"input": -1, "output": 2}}`), 0o644)
	if _, err := llm.LoadPrices(bad); err == nil || !strings.Contains(err.Error(), `negative price or empty model name for "x"`) {
		t.Fatalf("bad price file: %v", err)
	}
	_ = os.WriteFile(bad, []byte(`{"x": `), 0o644)
	if _, err := llm.LoadPrices(bad); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("malformed price file: %v", err)
	}
}

func TestClassifyHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status        int
		code, message string
		want          klaxontype.FailureClass
	}{
		{429, "rate_limit_exceeded", "slow down", klaxontype.ClassRateLimited},
		{408, "", "timeout", klaxontype.ClassTransient},
		{409, "", "conflict", klaxontype.ClassTransient},
		{500, "", "oops", klaxontype.ClassTransient},
		{529, "overloaded_error", "Overloaded", klaxontype.ClassTransient},
		{400, "context_length_exceeded", "This model's maximum context length is 128000 tokens", klaxontype.ClassContextOverflow},
		{400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum", klaxontype.ClassContextOverflow},
		{400, "content_policy_violation", "Your request was rejected by our safety system", klaxontype.ClassPolicyViolation},
		{400, "invalid_request_error", "messages: field required", klaxontype.ClassPermanent},
		{422, "", "unprocessable", klaxontype.ClassPermanent},
		{401, "invalid_api_key", "Incorrect API key provided", klaxontype.ClassPermanent},
		{403, "permission_error", "no access", klaxontype.ClassPermanent},
	} {
		if got := llm.ClassifyHTTP(tc.status, tc.code, tc.message); got != tc.want {
			t.Errorf("%d %s %q: %s, want %s", tc.status, tc.code, tc.message, got, tc.want)
		}
	}
	auth := &llm.ProviderError{Provider: "openai", Status: 401, Message: "Incorrect API key provided", Class: klaxontype.ClassPermanent}
	if !strings.Contains(auth.Error(), "credentials are wrong") {
		t.Fatalf("401 message %q does not say the credentials are wrong", auth.Error())
	}
	if d := llm.ParseRetryAfter("2", time.Now()); d != 2*time.Second {
		t.Fatalf("Retry-After 2 = %s", d)
	}
}

func TestNewerModelIsNotPricedAsOlder(t *testing.T) {
	t.Parallel()
	for model, want := range map[string]bool{
		"claude-sonnet-4-20250514": true, "gpt-4o-2024-08-06": true, "claude-3-5-haiku-latest": true,
		"claude-opus-4-5": false, "claude-opus-4-5-20251101": false, "gpt-4o-audio-preview": false,
	} {
		if _, ok := llm.DefaultPrices.Lookup(model); ok != want {
			t.Errorf("%s priced: %v, want %v", model, ok, want)
		}
	}
}

// refusingProvider refuses every request as a content-policy violation.
type refusingProvider struct{ calls atomic.Int32 }

func (p *refusingProvider) Name() string { return "fake" }

func (p *refusingProvider) Complete(context.Context, *llm.Request) (*llm.Response, error) {
	p.calls.Add(1)
	return nil, &llm.ProviderError{Class: klaxontype.ClassPolicyViolation, Status: 400, Message: "refused by the content filter"}
}

// A person can resolve a dead model call with a written answer: the run goes
// on with it, and the provider is not asked again.
func TestResolvedCallIsUsedAsWritten(t *testing.T) {
	t.Parallel()
	provider := &refusingProvider{}
	wf := klaxon.NewWorkflow("refused", func(ctx context.Context, doc string) (string, error) {
		response, err := llm.Call(ctx, provider, "ask", &llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Content: doc}}})
		if err != nil {
			return "", err
		}
		return strings.ToUpper(response.Content), nil
	}, fastRetry)
	client := startClient(t, wf)
	ctx := context.Background()
	result, _ := wf.Enqueue(ctx, client, "x")
	run, _ := client.AwaitRun(ctx, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead {
		t.Fatalf("run %s (%+v); want dead", run.Status, run.Failure)
	}
	entries, err := client.DeadLetters(ctx, &klaxon.DeadLetterFilter{Workflow: "refused"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries %v, %v", entries, err)
	}
	if _, err := client.Resolve(ctx, entries[0].ID, "ask", []byte(`{"content": "written by hand"}`), "carol"); err != nil {
		t.Fatal(err)
	}
	out, err := wf.Await(ctx, client, run.ID)
	if err != nil || out != "WRITTEN BY HAND" {
		t.Fatalf("output %q, %v", out, err)
	}
	if n := provider.calls.Load(); n != 1 {
		t.Fatalf("the provider was asked %d times; the resolved answer must be used", n)
	}
}
