package tracing_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/tracing"
)

// runFamily runs a parent that starts one child (its step "research") and
// awaits it, on a real SQLite store with a tracer over provider's exporter,
// and returns both runs' IDs and every span once the worker has stopped.
func runFamily(t *testing.T, options ...sdktrace.TracerProviderOption) (parentID, childID string, spans tracetest.SpanStubs) {
	t.Helper()
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(append(options, sdktrace.WithSyncer(exporter))...)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	child := klaxon.NewWorkflow("researcher", func(ctx context.Context, topic string) (string, error) {
		return klaxon.Step(ctx, "search", func(context.Context) (string, error) { return "notes on " + topic, nil })
	})
	parent := klaxon.NewWorkflow("editor", func(ctx context.Context, topic string) (string, error) {
		return klaxon.Child[string](ctx, "research", "researcher", topic)
	})
	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 5 * time.Millisecond, Tracer: tracing.New(provider)})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(child, parent); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	enqueued, err := parent.Enqueue(ctx, client, "tides")
	if err != nil {
		t.Fatal(err)
	}
	awaitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	run, err := client.AwaitRun(awaitCtx, enqueued.Run.ID)
	if err != nil || run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("parent ended %v: %v", run, err)
	}
	family, err := client.RunFamily(ctx, run.ID)
	if err != nil || len(family.Children) != 1 {
		t.Fatalf("family %+v: %v", family, err)
	}
	if err := client.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	return run.ID, family.Children[0].ChildID, exporter.GetSpans()
}

// onlySpan returns the one span named name for which keep holds.
func onlySpan(t *testing.T, spans tracetest.SpanStubs, name string, keep func(tracetest.SpanStub) bool) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, span := range spans {
		if span.Name == name && keep(span) {
			found = append(found, span)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %q; want 1", len(found), name)
	}
	return found[0]
}

// A child run's attempt span names its parent run and step and links to the
// parent's trace; the parent's step that started the child names the child
// and links to the child's trace. Replays of the start step in the parent's
// later attempt are not the start.
func TestTraceLinksAChildRunToItsParent(t *testing.T) {
	t.Parallel()
	parentID, childID, spans := runFamily(t, sdktrace.WithIDGenerator(tracing.RunTraceIDs()))
	parentTrace, _ := tracing.TraceID(parentID)
	childTrace, _ := tracing.TraceID(childID)
	every := func(tracetest.SpanStub) bool { return true }

	childRun := onlySpan(t, spans, "run researcher", every)
	if childRun.SpanContext.TraceID() != childTrace || childRun.Parent.IsValid() {
		t.Errorf("the child's attempt is in trace %s with parent %v; want its own trace %s, as a root", childRun.SpanContext.TraceID(), childRun.Parent, childTrace)
	}
	wantAttrs(t, childRun, map[string]any{
		"klaxon.run.id": childID, "klaxon.parent.run.id": parentID, "klaxon.parent.step.seq": 1, "klaxon.parent.step.name": "research",
	})
	if len(childRun.Links) != 1 || childRun.Links[0].SpanContext.TraceID() != parentTrace {
		t.Fatalf("the child's attempt links to %+v; want the parent's trace %s", childRun.Links, parentTrace)
	}
	if got := childRun.Links[0].Attributes; len(got) != 2 || got[0].Value.AsString() != parentID || got[1].Value.AsInt64() != 1 {
		t.Errorf("the link's attributes are %v; want the parent run and its step", got)
	}

	// The parent ran twice: it started the child and waited, then was woken
	// and replayed the start. The start's execution names the child.
	executed := func(span tracetest.SpanStub) bool {
		return attrs(span)["klaxon.step.outcome"].AsString() == "completed"
	}
	start := onlySpan(t, spans, "step research", executed)
	if start.SpanContext.TraceID() != parentTrace {
		t.Errorf("the start step is in trace %s; want the parent's %s", start.SpanContext.TraceID(), parentTrace)
	}
	wantAttrs(t, start, map[string]any{"klaxon.run.id": parentID, "klaxon.child.run.id": childID, "klaxon.child.workflow": "researcher"})
	if len(start.Links) != 1 || start.Links[0].SpanContext.TraceID() != childTrace ||
		start.Links[0].Attributes[0].Value.AsString() != childID {
		t.Errorf("the start step links to %+v; want the child's trace %s", start.Links, childTrace)
	}
	replayed := onlySpan(t, spans, "step research (replayed)", every)
	if _, named := attrs(replayed)["klaxon.child.run.id"]; named || len(replayed.Links) != 0 {
		t.Errorf("the replayed start has %v and links %v; it started nothing", replayed.Attributes, replayed.Links)
	}
}

// With trace IDs that are not the runs' IDs, the spans still name each other's
// runs, but link to no trace: the other run's trace ID is not known.
func TestTraceOfAChildWithRandomTraceIDsNamesButDoesNotLink(t *testing.T) {
	t.Parallel()
	parentID, childID, spans := runFamily(t)
	childRun := onlySpan(t, spans, "run researcher", func(tracetest.SpanStub) bool { return true })
	wantAttrs(t, childRun, map[string]any{"klaxon.parent.run.id": parentID})
	start := onlySpan(t, spans, "step research", func(span tracetest.SpanStub) bool {
		return attrs(span)["klaxon.step.outcome"].AsString() == "completed"
	})
	wantAttrs(t, start, map[string]any{"klaxon.child.run.id": childID})
	if len(childRun.Links)+len(start.Links) != 0 {
		t.Errorf("links %v and %v to traces whose IDs are unknown", childRun.Links, start.Links)
	}
}
