package tracing_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/tracing"
)

// fakeModel answers like an OpenAI model, or fails with err, and counts the
// calls that reached it.
type fakeModel struct {
	calls atomic.Int32
	err   error
}

func (p *fakeModel) Name() string { return "openai" }

func (p *fakeModel) Complete(ctx context.Context, request *llm.Request) (*llm.Response, error) {
	p.calls.Add(1)
	if p.err != nil {
		return nil, p.err
	}
	return &llm.Response{
		Model: "gpt-4o-mini-2024-07-18", Content: "a summary", FinishReason: "stop",
		Usage: klaxontype.TokenUsage{InputTokens: 1000, OutputTokens: 500, CachedTokens: 400},
	}, nil
}

// runTraced runs one run of wf to its end on a real SQLite store, with a
// tracer whose spans go to an in-memory exporter, and returns the run and
// its spans once the worker has stopped (every span ended).
func runTraced[In, Out any](t *testing.T, wf *klaxon.Workflow[In, Out], input In, opts ...klaxon.EnqueueOption) (*klaxontype.Run, tracetest.SpanStubs) {
	t.Helper()
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter), sdktrace.WithIDGenerator(tracing.RunTraceIDs()))
	run := runWithTracer(t, tracing.New(provider), wf, input, opts...)
	return run, exporter.GetSpans()
}

// runWithTracer runs one run of wf to its end on a real SQLite store, with
// tracer, and returns the run once the worker has stopped.
func runWithTracer[In, Out any](t *testing.T, tracer klaxontype.Tracer, wf *klaxon.Workflow[In, Out], input In, opts ...klaxon.EnqueueOption) *klaxontype.Run {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 5 * time.Millisecond, Tracer: tracer})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(wf); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	result, err := wf.Enqueue(ctx, client, input, opts...)
	if err != nil {
		t.Fatal(err)
	}
	awaitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	run, err := client.AwaitRun(awaitCtx, result.Run.ID)
	if run == nil || !run.Status.Terminal() {
		t.Fatalf("run did not end: %v", err)
	}
	if err := client.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	return run
}

// spanTree indexes spans by parent, to walk the tree a trace viewer shows.
type spanTree struct {
	t        *testing.T
	spans    tracetest.SpanStubs
	children map[trace.SpanID][]tracetest.SpanStub
}

func newSpanTree(t *testing.T, spans tracetest.SpanStubs) *spanTree {
	tree := &spanTree{t: t, spans: spans, children: map[trace.SpanID][]tracetest.SpanStub{}}
	for _, span := range spans {
		tree.children[span.Parent.SpanID()] = append(tree.children[span.Parent.SpanID()], span)
	}
	for _, list := range tree.children {
		sort.Slice(list, func(i, j int) bool { return list[i].StartTime.Before(list[j].StartTime) })
	}
	return tree
}

// names lists the names of a span's children, in the order they started.
func (tree *spanTree) names(parent tracetest.SpanStub) []string {
	var names []string
	for _, child := range tree.children[parent.SpanContext.SpanID()] {
		names = append(names, child.Name)
	}
	return names
}

// child returns the parent's only child named name.
func (tree *spanTree) child(parent tracetest.SpanStub, name string) tracetest.SpanStub {
	tree.t.Helper()
	var found []tracetest.SpanStub
	for _, child := range tree.children[parent.SpanContext.SpanID()] {
		if child.Name == name {
			found = append(found, child)
		}
	}
	if len(found) != 1 {
		tree.t.Fatalf("span %q has %d children named %q; children: %v", parent.Name, len(found), name, tree.names(parent))
	}
	return found[0]
}

// attrs returns a span's attributes by key.
func attrs(span tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(span.Attributes))
	for _, kv := range span.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

// wantAttrs fails the test unless span has each attribute with the value.
func wantAttrs(t *testing.T, span tracetest.SpanStub, want map[string]any) {
	t.Helper()
	got := attrs(span)
	for key, value := range want {
		v, ok := got[attribute.Key(key)]
		if !ok {
			t.Errorf("span %q: no attribute %s (has %v)", span.Name, key, span.Attributes)
			continue
		}
		if have := v.AsInterface(); !equal(have, value) {
			t.Errorf("span %q: %s = %#v, want %#v", span.Name, key, have, value)
		}
	}
}

func equal(have, want any) bool {
	switch w := want.(type) {
	case int:
		return have == int64(w)
	case []string:
		h, ok := have.([]string)
		return ok && strings.Join(h, "\x00") == strings.Join(w, "\x00")
	}
	return have == want
}

// A run whose last step fails once: the trace shows two attempts, the failed
// step with its class, the second attempt replaying what the first one
// checkpointed (no model call), and the model call as a child of its step
// with the GenAI attributes.
func TestTraceOfRetriedRunWithModelCall(t *testing.T) {
	t.Parallel()
	model := &fakeModel{}
	var publishes atomic.Int32
	wf := klaxon.NewWorkflow("summarize-doc", func(ctx context.Context, doc string) (string, error) {
		text, err := klaxon.Step(ctx, "fetch", func(context.Context) (string, error) { return "text of " + doc, nil })
		if err != nil {
			return "", err
		}
		temperature := 0.2
		summary, err := llm.Call(ctx, model, "summarize", &llm.Request{
			Model: "gpt-4o-mini", MaxTokens: 200, Temperature: &temperature,
			Messages: []llm.Message{{Role: llm.RoleUser, Content: text}},
		})
		if err != nil {
			return "", err
		}
		if _, err := llm.ExecuteTool(ctx, llm.ToolCall{ID: "call_1", Name: "lookup", Arguments: json.RawMessage(`{}`)},
			func(context.Context, json.RawMessage) (json.RawMessage, error) {
				return json.RawMessage(`"found"`), nil
			}); err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "publish", func(context.Context) (string, error) {
			if publishes.Add(1) == 1 {
				return "", errors.New("CMS unavailable")
			}
			return summary.Content, nil
		})
	}, klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))

	run, spans := runTraced(t, wf, "report.pdf", klaxon.WithEntity("document_id", "42"))
	if run.Status != klaxontype.RunStatusCompleted || model.calls.Load() != 1 {
		t.Fatalf("run %s after %d model calls; want completed after 1", run.Status, model.calls.Load())
	}
	tree := newSpanTree(t, spans)

	// Two attempts, each a root span in the trace whose ID is the run's.
	roots := tree.children[trace.SpanID{}]
	if len(roots) != 2 || roots[0].Name != "run summarize-doc" || roots[1].Name != "run summarize-doc" {
		t.Fatalf("root spans %v; want the two attempts of the run", tree.names(tracetest.SpanStub{}))
	}
	traceID, _ := tracing.TraceID(run.ID)
	for _, root := range roots {
		if root.SpanContext.TraceID() != traceID {
			t.Errorf("attempt span in trace %s; want the run's trace %s", root.SpanContext.TraceID(), traceID)
		}
		if root.SpanKind != trace.SpanKindConsumer {
			t.Errorf("attempt span kind %s; want consumer", root.SpanKind)
		}
	}
	first, second := roots[0], roots[1]
	wantAttrs(t, first, map[string]any{
		"klaxon.workflow": "summarize-doc", "klaxon.run.id": run.ID, "klaxon.run.attempt": 1,
		"klaxon.entity.document_id": "42", "klaxon.attempt.result": "retrying",
		"klaxon.failure_class": "transient", "error.type": "transient", "klaxon.run.retries": 1,
	})
	if first.Status.Code != codes.Error || !strings.Contains(first.Status.Description, "CMS unavailable") {
		t.Errorf("first attempt status %+v; want Error with the step's error", first.Status)
	}
	wantAttrs(t, second, map[string]any{
		"klaxon.run.id": run.ID, "klaxon.run.attempt": 2, "klaxon.attempt.result": "completed",
		"klaxon.entity.document_id": "42", "klaxon.run.tokens": 1500,
	})
	if second.Status.Code != codes.Ok {
		t.Errorf("second attempt status %+v; want Ok", second.Status)
	}

	// The first attempt executes every step; publish fails with its class.
	if got := strings.Join(tree.names(first), ", "); got != "step fetch, step summarize, step tool:lookup, step publish" {
		t.Fatalf("first attempt's children: %s", got)
	}
	fetch := tree.child(first, "step fetch")
	wantAttrs(t, fetch, map[string]any{
		"klaxon.workflow": "summarize-doc", "klaxon.run.id": run.ID, "klaxon.run.attempt": 1,
		"klaxon.step.name": "fetch", "klaxon.step.seq": 1, "klaxon.step.replayed": false, "klaxon.step.outcome": "completed",
	})
	publish := tree.child(first, "step publish")
	wantAttrs(t, publish, map[string]any{
		"klaxon.step.name": "publish", "klaxon.step.seq": 4, "klaxon.step.outcome": "failed",
		"klaxon.failure_class": "transient", "error.type": "transient",
	})
	if publish.Status.Code != codes.Error || publish.Status.Description != "CMS unavailable" {
		t.Errorf("failed step status %+v; want Error: CMS unavailable", publish.Status)
	}

	// The model call is a child of its step, with the GenAI attributes.
	summarize := tree.child(first, "step summarize")
	chat := tree.child(summarize, "chat gpt-4o-mini")
	if chat.SpanKind != trace.SpanKindClient {
		t.Errorf("model call span kind %s; want client", chat.SpanKind)
	}
	wantAttrs(t, chat, map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.system": "openai",
		"gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
		"gen_ai.request.max_tokens": 200, "gen_ai.request.temperature": 0.2,
		"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 500,
		"gen_ai.usage.cache_read.input_tokens": 400, "gen_ai.response.finish_reasons": []string{"stop"},
	})
	if cost, ok := attrs(chat)["klaxon.cost_usd"]; !ok || cost.AsFloat64() <= 0 {
		t.Errorf("model call cost %v; want the priced cost of gpt-4o-mini", cost)
	}
	tool := tree.child(tree.child(first, "step tool:lookup"), "execute_tool lookup")
	wantAttrs(t, tool, map[string]any{
		"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup", "gen_ai.tool.call.id": "call_1",
	})

	// The second attempt replays the checkpointed steps: marked as replays,
	// without children (the model is not called again); publish runs.
	if got := strings.Join(tree.names(second), ", "); got != "step fetch (replayed), step summarize (replayed), step tool:lookup (replayed), step publish" {
		t.Fatalf("second attempt's children: %s", got)
	}
	for _, name := range []string{"step fetch (replayed)", "step summarize (replayed)", "step tool:lookup (replayed)"} {
		replayed := tree.child(second, name)
		wantAttrs(t, replayed, map[string]any{"klaxon.step.replayed": true, "klaxon.step.outcome": "replayed", "klaxon.run.attempt": 2})
		if children := tree.names(replayed); len(children) != 0 {
			t.Errorf("replayed step %q has children %v; a replay calls nothing", name, children)
		}
	}
	wantAttrs(t, tree.child(second, "step publish"), map[string]any{
		"klaxon.step.seq": 4, "klaxon.step.replayed": false, "klaxon.step.outcome": "completed",
	})
	if len(spans) != 2+8+2 {
		t.Errorf("%d spans; want 2 attempts, 8 step calls, 1 model call and 1 tool call", len(spans))
	}
}

// A model call refused for good fails its span, its step's and the attempt's
// with the failure class, and the run goes dead.
func TestTraceOfFailedModelCall(t *testing.T) {
	t.Parallel()
	model := &fakeModel{err: &llm.ProviderError{
		Provider: "openai", Status: 400, Code: "context_length_exceeded",
		Message: "maximum context length is 128000 tokens", Class: klaxontype.ClassContextOverflow,
	}}
	wf := klaxon.NewWorkflow("too-long", func(ctx context.Context, doc string) (string, error) {
		response, err := llm.Call(ctx, model, "summarize", &llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Content: doc}}})
		if err != nil {
			return "", err
		}
		return response.Content, nil
	})
	run, spans := runTraced(t, wf, "a very long document")
	if run.Status != klaxontype.RunStatusDead {
		t.Fatalf("run %s; want dead", run.Status)
	}
	tree := newSpanTree(t, spans)
	roots := tree.children[trace.SpanID{}]
	if len(roots) != 1 {
		t.Fatalf("root spans %v; want one attempt", tree.names(tracetest.SpanStub{}))
	}
	attempt := roots[0]
	step := tree.child(attempt, "step summarize")
	chat := tree.child(step, "chat gpt-4o")
	for _, span := range []tracetest.SpanStub{attempt, step, chat} {
		if span.Status.Code != codes.Error || !strings.Contains(span.Status.Description, "maximum context length") {
			t.Errorf("span %q status %+v; want Error with the provider's message", span.Name, span.Status)
		}
		wantAttrs(t, span, map[string]any{"klaxon.failure_class": "context_overflow", "error.type": "context_overflow"})
	}
	wantAttrs(t, attempt, map[string]any{"klaxon.attempt.result": "dead"})
	if _, ok := attrs(chat)["gen_ai.usage.input_tokens"]; ok {
		t.Errorf("a refused call without a response has token usage: %v", chat.Attributes)
	}
}

// TestTraceOfASleep: a run that sleeps shows the wait as a span in each of
// its attempts' traces: "wait nap (waiting)" where it gave up its worker,
// and "wait nap (replayed)" in the attempt that resumed it, both in the
// run's trace, with the wait's kind.
func TestTraceOfASleep(t *testing.T) {
	t.Parallel()
	wf := klaxon.NewWorkflow("napper", func(ctx context.Context, _ int) (int, error) {
		if err := klaxon.Sleep(ctx, "nap", 50*time.Millisecond); err != nil {
			return 0, err
		}
		return klaxon.Step(ctx, "after", func(context.Context) (int, error) { return 1, nil })
	})
	run, spans := runTraced(t, wf, 1)
	if run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("run %s", run.Status)
	}
	var names []string
	traceID, _ := tracing.TraceID(run.ID)
	for _, span := range spans {
		names = append(names, span.Name)
		if span.SpanContext.TraceID() != traceID {
			t.Errorf("span %q in trace %s; want the run's", span.Name, span.SpanContext.TraceID())
		}
		switch span.Name {
		case "wait nap (waiting)":
			wantAttrs(t, span, map[string]any{"klaxon.wait.kind": "sleep", "klaxon.step.outcome": "waiting"})
		case "wait nap (replayed)":
			wantAttrs(t, span, map[string]any{"klaxon.wait.kind": "sleep", "klaxon.step.outcome": "replayed"})
		case "run napper":
			if result := attrs(span)[attribute.Key("klaxon.attempt.result")].AsString(); result != "waiting" && result != "completed" {
				t.Errorf("attempt ended %q; want waiting, then completed", result)
			}
		}
	}
	slices.Sort(names)
	want := []string{"run napper", "run napper", "step after", "wait nap (replayed)", "wait nap (waiting)"}
	if !slices.Equal(names, want) {
		t.Errorf("spans %v; want %v", names, want)
	}
}
