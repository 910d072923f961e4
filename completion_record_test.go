package klaxon_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
	"github.com/klaxonhq/klaxon/llm/openai"
	"github.com/klaxonhq/klaxon/store"
)

// chatServer speaks OpenAI's Chat Completions wire format: every request is
// answered by model with 1,000 input and 200 output tokens.
func chatServer(t *testing.T, model string) *openai.Provider {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": "chatcmpl-1", "object": "chat.completion", "created": 1764230400, "model": %q,
			"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "a summary"}}],
			"usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}}`, model)
	}))
	t.Cleanup(server.Close)
	return openai.New(openai.WithAPIKey("sk-test"), openai.WithBaseURL(server.URL+"/v1"), openai.WithHTTPClient(server.Client()))
}

// terminalRecord returns the completion record of the run's terminal event,
// failing the test unless exactly one event carries one.
func terminalRecord(t *testing.T, st store.Store, runID string, terminal klaxontype.EventType) *klaxontype.CompletionRecord {
	t.Helper()
	events, err := st.EventList(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	var record *klaxontype.CompletionRecord
	for _, e := range events {
		switch {
		case e.Type == terminal && e.Record != nil:
			record = e.Record
		case e.Record != nil:
			t.Errorf("%s event carries a completion record", e.Type)
		}
	}
	if record == nil {
		t.Fatalf("the %s event of run %s has no completion record", terminal, runID)
	}
	return record
}

// A run that completes after a retry records its manifest, each step's
// attempts, the spend of every attempt and how long it took, on its
// run.completed event.
func TestCompletionRecordOfRetriedRun(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	provider := chatServer(t, "gpt-4o-mini-2024-07-18")
	var publishes atomic.Int32
	wf := klaxon.NewWorkflow("summarize_report", func(ctx context.Context, doc string) (string, error) {
		if _, err := klaxon.Step(ctx, "fetch", func(context.Context) (string, error) { return doc, nil }); err != nil {
			return "", err
		}
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
	}, klaxon.ExpectSteps("fetch", "summarize", "publish"), fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, "the report")
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("run is %s (%+v); want completed", run.Status, run.Failure)
	}

	record := terminalRecord(t, st, run.ID, klaxontype.EventRunCompleted)
	wantManifest := klaxontype.StepManifest{
		Expected: []string{"fetch", "summarize", "publish"},
		Executed: []string{"fetch", "summarize", "publish"},
		Missing:  []string{},
	}
	if !reflect.DeepEqual(record.Manifest, wantManifest) || !record.Manifest.Complete() {
		t.Errorf("manifest %+v; want %+v", record.Manifest, wantManifest)
	}
	wantSteps := []klaxontype.StepAttempts{
		{Seq: 1, Step: "fetch", Attempts: 1, Completed: true},
		{Seq: 2, Step: "summarize", Attempts: 1, Completed: true},
		{Seq: 3, Step: "publish", Attempts: 2, Completed: true},
	}
	if !reflect.DeepEqual(record.Steps, wantSteps) || record.StepAttemptsTotal() != 4 {
		t.Errorf("attempts per step %+v; want %+v", record.Steps, wantSteps)
	}
	if record.Status != klaxontype.RunStatusCompleted || record.FailureClass != "" || record.Attempts != 2 || record.Retries != 1 {
		t.Errorf("record: %s %q, %d attempts, %d retries; want completed, 2 attempts, 1 retry",
			record.Status, record.FailureClass, record.Attempts, record.Retries)
	}
	// One model call, replayed on the retry: its tokens once, at
	// gpt-4o-mini's price ($0.15 and $0.60 a million tokens).
	if record.Spend.Usage.Total() != 1200 || record.Spend.ModelCalls != 1 || record.Spend.Cost.Unknown || !near(record.Spend.Cost.USD, 0.00027) {
		t.Errorf("record spend %+v; want 1,200 tokens of one call costing $0.00027", record.Spend)
	}
	if record.Spend != run.Spend {
		t.Errorf("record spend %+v differs from the run's %+v", record.Spend, run.Spend)
	}
	// From enqueue to the engine's end of the run, a moment before the
	// store's.
	if took := run.FinishedAt.Sub(run.CreatedAt); record.Duration <= 0 || record.Duration > took {
		t.Errorf("record duration %s; want at most the %s from created to finished", record.Duration, took)
	}
}

// A dead run's record lists the expected steps it never completed, and
// charges every failed attempt to the step that failed.
func TestCompletionRecordOfDeadRun(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	wf := klaxon.NewWorkflow("enrich_lead", func(ctx context.Context, _ int) (string, error) {
		if _, err := klaxon.Step(ctx, "lookup", func(context.Context) (int, error) { return 1, nil }); err != nil {
			return "", err
		}
		if _, err := klaxon.Step(ctx, "enrich", func(context.Context) (int, error) {
			return 0, errors.New("enrichment API unavailable")
		}); err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "save", func(context.Context) (string, error) { return "saved", nil })
	}, klaxon.ExpectSteps("lookup", "enrich", "save"), fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead {
		t.Fatalf("run is %s; want dead", run.Status)
	}

	record := terminalRecord(t, st, run.ID, klaxontype.EventRunDead)
	if want := []string{"enrich", "save"}; !reflect.DeepEqual(record.Manifest.Missing, want) || record.Manifest.Complete() {
		t.Errorf("missing steps %v; want %v", record.Manifest.Missing, want)
	}
	if want := []string{"lookup"}; !reflect.DeepEqual(record.Manifest.Executed, want) {
		t.Errorf("executed steps %v; want %v", record.Manifest.Executed, want)
	}
	wantSteps := []klaxontype.StepAttempts{
		{Seq: 1, Step: "lookup", Attempts: 1, Completed: true},
		{Seq: 2, Step: "enrich", Attempts: 3, Completed: false},
	}
	if !reflect.DeepEqual(record.Steps, wantSteps) {
		t.Errorf("attempts per step %+v; want %+v", record.Steps, wantSteps)
	}
	if record.Status != klaxontype.RunStatusDead || record.FailureClass != run.Failure.Class || record.Attempts != 3 || record.Retries != 2 {
		t.Errorf("record: %s %q, %d attempts, %d retries; want dead %q, 3 attempts, 2 retries",
			record.Status, record.FailureClass, record.Attempts, record.Retries, run.Failure.Class)
	}
}

// A model missing from the price table makes the record's cost unknown, never
// zero, while its tokens are still counted.
func TestCompletionRecordOfUnknownPrice(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	provider := chatServer(t, "acme-lm-7")
	wf := klaxon.NewWorkflow("unpriced_summary", func(ctx context.Context, doc string) (string, error) {
		response, err := llm.Call(ctx, provider, "summarize", &llm.Request{
			Model: "acme-lm-7", Messages: []llm.Message{{Role: llm.RoleUser, Content: doc}},
		})
		if err != nil {
			return "", err
		}
		return response.Content, nil
	})
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, "the report")
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("run is %s (%+v); want completed", run.Status, run.Failure)
	}
	record := terminalRecord(t, st, run.ID, klaxontype.EventRunCompleted)
	if !record.Spend.Cost.Unknown || record.Spend.Cost.String() != "unknown" || record.Spend.Usage.Total() != 1200 {
		t.Errorf("record spend %+v; want 1,200 tokens at an unknown cost", record.Spend)
	}
	if len(record.Manifest.Expected) != 0 || !reflect.DeepEqual(record.Manifest.Executed, []string{"summarize"}) {
		t.Errorf("manifest %+v; want none expected, summarize executed", record.Manifest)
	}
}
