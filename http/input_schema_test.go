package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// articleInput is the input of the workflow the worker registers below.
type articleInput struct {
	URL    string `json:"url"`
	Limits struct {
		Words int `json:"words"`
	} `json:"limits"`
}

// The server's process has no workflow code: a worker elsewhere registered
// the workflow with its input schema and policies, which the server lists and
// checks enqueued inputs against.
func TestEnqueueIsCheckedAgainstTheRecordedInputSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	// The worker registers the workflow in the store and stops: no process
	// of this test has its code afterwards.
	summarize := klaxon.NewWorkflow("summarize", func(ctx context.Context, in articleInput) (string, error) { return in.URL, nil },
		klaxon.Version(2), klaxon.RunTimeout(time.Minute), klaxon.WithBudget(klaxontype.Budget{CostUSD: 0.5}))
	worker, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Register(summarize); err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := worker.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}

	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.Handler())
	t.Cleanup(ts.Close)
	f := &fixture{t: t, store: st, server: ts, api: server}
	api := f.client("")

	workflows, err := api.Workflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(workflows) != 1 {
		t.Fatalf("workflows %+v, want summarize alone", workflows)
	}
	listed := workflows[0]
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(listed.InputSchema, &schema); err != nil || schema.Properties["url"] == nil || schema.Properties["limits"] == nil {
		t.Fatalf("input schema %s (%v), want one with url and limits", listed.InputSchema, err)
	}
	policies := listed.Policies
	if policies == nil || policies.RunTimeout != time.Minute || policies.Budget == nil || policies.Budget.CostUSD != 0.5 ||
		policies.Retry.MaxAttempts != klaxontype.DefaultRetryPolicy.MaxAttempts || policies.Breaker != nil {
		t.Fatalf("policies %+v", policies)
	}
	// The wire form, snake_case, with what is unset left out.
	r := f.do(http.MethodGet, "/api/v1/workflows", "", "")
	var raw struct {
		Workflows []map[string]json.RawMessage `json:"workflows"`
	}
	r.decode(t, &raw)
	if got := string(raw.Workflows[0]["policies"]); got != `{"retry":{"max_attempts":5,"initial_backoff":1000000000,"max_backoff":300000000000},"run_timeout":60000000000,"budget":{"cost_usd":0.5}}` {
		t.Fatalf("policies on the wire: %s", got)
	}

	// Inputs that do not fit are refused naming the path, and create nothing.
	for _, c := range []struct {
		body  string
		words []string
	}{
		{`{"workflow":"summarize","input":{"url":42}}`, []string{"summarize", "/url", "got number, want null or string"}},
		{`{"workflow":"summarize","input":{"url":"x","limits":{"words":"many"}}}`, []string{"/limits/words"}},
		{`{"workflow":"summarize","input":{"url":"x","lang":"fr"}}`, []string{"lang"}},
		{`{"workflow":"summarize","input":"https://example.com"}`, []string{"at /:", "want null or object"}},
	} {
		f.do(http.MethodPost, "/api/v1/runs", "", c.body).wantProblem(t, http.StatusUnprocessableEntity, c.words...)
	}
	if n := f.runCount(); n != 0 {
		t.Fatalf("refused inputs created %d runs", n)
	}
	// The typed client sees the refusal as ErrInvalid.
	_, err = api.Enqueue(ctx, &klaxonhttp.EnqueueRequest{Workflow: "summarize", Input: json.RawMessage(`{"url":[]}`)})
	if !errors.Is(err, klaxontype.ErrInvalid) {
		t.Fatalf("typed client: %v, want ErrInvalid", err)
	}

	// Inputs that fit, including the ones strict decoding accepts with zero
	// values, are enqueued at the recorded version.
	for _, input := range []string{`{"url":"https://example.com","limits":{"words":200}}`, `{}`, `{"url":null}`} {
		result, err := api.Enqueue(ctx, &klaxonhttp.EnqueueRequest{Workflow: "summarize", Input: json.RawMessage(input)})
		if err != nil {
			t.Fatalf("input %s: %v", input, err)
		}
		if result.Run.WorkflowVersion != 2 {
			t.Fatalf("run at version %d, want 2", result.Run.WorkflowVersion)
		}
	}
	if n := f.runCount(); n != 3 {
		t.Fatalf("%d runs, want 3", n)
	}
}
