package tracing

import (
	"context"
	"fmt"
	"sort"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// ScopeName is the instrumentation scope of Klaxon's spans.
const ScopeName = "github.com/klaxonhq/klaxon"

// Attribute keys of Klaxon's own span attributes. Model and tool calls also
// carry the GenAI semantic-convention attributes (gen_ai.*), and failures
// error.type.
const (
	AttrWorkflow        = attribute.Key("klaxon.workflow")
	AttrWorkflowVersion = attribute.Key("klaxon.workflow.version")
	AttrRunID           = attribute.Key("klaxon.run.id")
	AttrAttempt         = attribute.Key("klaxon.run.attempt")
	AttrReplayOf        = attribute.Key("klaxon.run.replay_of")
	AttrRetries         = attribute.Key("klaxon.run.retries")
	AttrRunTokens       = attribute.Key("klaxon.run.tokens")
	AttrRunCostUSD      = attribute.Key("klaxon.run.cost_usd")
	// AttrAttemptResult is how an attempt ended: completed, retrying, dead,
	// released, lease_lost or abandoned.
	AttrAttemptResult = attribute.Key("klaxon.attempt.result")
	// AttrEntityPrefix prefixes the run's entity IDs: entity document_id=42 is
	// the attribute klaxon.entity.document_id = "42".
	AttrEntityPrefix = "klaxon.entity."
	// AttrParentRunID, AttrParentStepSeq and AttrParentStepName are on the
	// attempt span of a child run: the run and step that started it.
	AttrParentRunID    = attribute.Key("klaxon.parent.run.id")
	AttrParentStepSeq  = attribute.Key("klaxon.parent.step.seq")
	AttrParentStepName = attribute.Key("klaxon.parent.step.name")
	// AttrChildRunID and AttrChildWorkflow are on the span of a step that
	// started a child run.
	AttrChildRunID    = attribute.Key("klaxon.child.run.id")
	AttrChildWorkflow = attribute.Key("klaxon.child.workflow")
	AttrStepName      = attribute.Key("klaxon.step.name")
	AttrStepSeq       = attribute.Key("klaxon.step.seq")
	// AttrStepReplayed is true on the span of a step answered from the step
	// log: its function did not run, and the span has no children.
	AttrStepReplayed = attribute.Key("klaxon.step.replayed")
	// AttrStepOutcome is how a step call ended: completed, replayed, failed,
	// or waiting (a durable wait gave the run up).
	AttrStepOutcome = attribute.Key("klaxon.step.outcome")
	// AttrWaitKind is the kind of a durable wait's span: sleep, signal or
	// approval.
	AttrWaitKind              = attribute.Key("klaxon.wait.kind")
	AttrCheckpointLatencyMS   = attribute.Key("klaxon.step.checkpoint_latency_ms")
	AttrFailureClass          = attribute.Key("klaxon.failure_class")
	AttrCostUSD               = attribute.Key("klaxon.cost_usd")
	AttrCostUnknown           = attribute.Key("klaxon.cost_unknown")
	attrGenAISystemDeprecated = attribute.Key("gen_ai.system")
)

// Tracer turns the engine's tracing hooks into OpenTelemetry spans; set it as
// klaxon.Config.Tracer. Its zero value is not usable: make one with New or
// FromEnvironment.
type Tracer struct {
	tracer trace.Tracer
}

var (
	_ klaxontype.Tracer      = (*Tracer)(nil)
	_ klaxontype.ChildTracer = (*Tracer)(nil)
)

// New returns a Tracer whose spans go to provider; a nil provider means the
// global one (otel.GetTracerProvider). For attempts of one run to share a
// trace whose ID is the run's ID, give the provider RunTraceIDs as its ID
// generator (FromEnvironment does).
func New(provider trace.TracerProvider) *Tracer {
	if provider == nil {
		provider = otel.GetTracerProvider()
	}
	return &Tracer{tracer: provider.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))}
}

// StartAttempt starts an attempt's span, named "run WORKFLOW". Every attempt
// is a root span: the context of the worker that claimed it is not its
// parent. The ID generator of RunTraceIDs puts all attempts of a run in the
// trace whose ID is the run's ULID.
func (t *Tracer) StartAttempt(ctx context.Context, run *klaxontype.Run) (context.Context, func(*klaxontype.AttemptOutcome)) {
	attrs := make([]attribute.KeyValue, 0, 5+len(run.Entities))
	attrs = append(attrs,
		AttrWorkflow.String(run.Workflow), AttrWorkflowVersion.Int(run.WorkflowVersion),
		AttrRunID.String(run.ID), AttrAttempt.Int(run.Attempt))
	if run.ReplayOf != "" {
		attrs = append(attrs, AttrReplayOf.String(run.ReplayOf))
	}
	if len(run.Entities) > 0 {
		keys := make([]string, 0, len(run.Entities))
		for key := range run.Entities {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			attrs = append(attrs, attribute.String(AttrEntityPrefix+key, run.Entities[key]))
		}
	}
	origin, child := klaxontype.ChildOriginOf(run.IdempotencyKey)
	if child {
		attrs = append(attrs, AttrParentRunID.String(origin.ParentID), AttrParentStepSeq.Int(origin.ParentSeq),
			AttrParentStepName.String(origin.Step))
	}
	ctx = withRunTraceID(ctx, run.ID)
	ctx, span := t.tracer.Start(ctx, "run "+run.Workflow,
		trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
	if child {
		linkRunTrace(span, run.ID, origin.ParentID, AttrParentRunID, AttrParentStepSeq.Int(origin.ParentSeq))
	}
	return ctx, func(o *klaxontype.AttemptOutcome) {
		span.SetAttributes(AttrAttemptResult.String(string(o.Result)), AttrRetries.Int(o.Retries),
			AttrRunTokens.Int64(o.Spend.Usage.Total()))
		setCost(span, AttrRunCostUSD, o.Spend.Cost)
		switch o.Result {
		case klaxontype.AttemptCompleted:
			span.SetStatus(codes.Ok, "")
		case klaxontype.AttemptReleased, klaxontype.AttemptWaiting:
			// The worker stopped, or the run waits: not a failure of the run.
		default:
			// A lost lease or an abandoned attempt has no class: its result
			// is the kind of error.
			fail(span, o.Class, string(o.Result), o.Err)
		}
		span.End()
	}
}

// StartStep starts a step call's span, named "step NAME", or "step NAME
// (replayed)" for a step answered from the step log, so that replays are
// never mistaken for executions (nor counted in their durations).
func (t *Tracer) StartStep(ctx context.Context, run *klaxontype.Run, seq int, name string) (context.Context, func(*klaxontype.StepOutcome)) {
	ctx, span := t.tracer.Start(ctx, "step "+name, trace.WithAttributes(
		AttrWorkflow.String(run.Workflow), AttrRunID.String(run.ID), AttrAttempt.Int(run.Attempt),
		AttrStepName.String(name), AttrStepSeq.Int(seq)))
	return ctx, func(o *klaxontype.StepOutcome) {
		if o.Wait != "" {
			// A durable wait: its span says where the run gave up its worker
			// ("(waiting)"), and, in the attempt that resumed it, that it was
			// answered or came due ("(replayed)").
			span.SetName("wait " + name)
			span.SetAttributes(AttrWaitKind.String(string(o.Wait)))
		}
		switch {
		case o.Waiting:
			span.SetName("wait " + name + " (waiting)")
			span.SetAttributes(AttrStepReplayed.Bool(false), AttrStepOutcome.String("waiting"))
		case o.Replayed && o.Wait != "":
			span.SetName("wait " + name + " (replayed)")
			span.SetAttributes(AttrStepReplayed.Bool(true), AttrStepOutcome.String("replayed"))
		case o.Replayed:
			span.SetName("step " + name + " (replayed)")
			span.SetAttributes(AttrStepReplayed.Bool(true), AttrStepOutcome.String("replayed"))
		case o.Err != nil:
			span.SetAttributes(AttrStepReplayed.Bool(false), AttrStepOutcome.String("failed"))
			fail(span, o.Class, "", o.Err)
		default:
			span.SetAttributes(AttrStepReplayed.Bool(false), AttrStepOutcome.String("completed"),
				AttrCheckpointLatencyMS.Float64(float64(o.CheckpointLatency.Microseconds())/1000))
		}
		span.End()
	}
}

// ChildStarted names the child run a step started, or found started by an
// earlier attempt, on the step's span, and links the span to the child's
// trace.
func (t *Tracer) ChildStarted(ctx context.Context, child *klaxontype.Run) {
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(AttrChildRunID.String(child.ID), AttrChildWorkflow.String(child.Workflow))
	if origin, ok := klaxontype.ChildOriginOf(child.IdempotencyKey); ok {
		linkRunTrace(span, origin.ParentID, child.ID, AttrChildRunID)
	}
}

// linkRunTrace links span, of run runID, to the trace of another run of its
// family, when the spans of runID are in the trace RunTraceIDs gives them (so
// the other run's are too, in any process set up alike). The link has that
// trace's ID and no span ID: the run's spans are made by whichever worker
// ran it, and no span ID of theirs is known here; its attributes name the
// other run.
func linkRunTrace(span trace.Span, runID, otherRunID string, otherKey attribute.Key, more ...attribute.KeyValue) {
	own, ok := TraceID(runID)
	if !ok || span.SpanContext().TraceID() != own {
		return
	}
	other, ok := TraceID(otherRunID)
	if !ok {
		return
	}
	span.AddLink(trace.Link{
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: other}),
		Attributes:  append([]attribute.KeyValue{otherKey.String(otherRunID)}, more...),
	})
}

// StartModelCall starts a model call's span, named "OPERATION MODEL" ("chat
// gpt-4o-mini") with the GenAI semantic-convention attributes. The provider
// is both gen_ai.provider.name (semantic conventions 1.37 and later) and
// gen_ai.system (earlier ones), for backends of either age.
func (t *Tracer) StartModelCall(ctx context.Context, call *klaxontype.ModelCall) (context.Context, func(*klaxontype.ModelCallOutcome)) {
	operation := call.Operation
	if operation == "" {
		operation = "chat"
	}
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs,
		semconv.GenAIOperationNameKey.String(operation),
		semconv.GenAIProviderNameKey.String(call.Provider),
		attrGenAISystemDeprecated.String(call.Provider),
		semconv.GenAIRequestModel(call.Model))
	if call.MaxTokens > 0 {
		attrs = append(attrs, semconv.GenAIRequestMaxTokens(call.MaxTokens))
	}
	if call.Temperature != nil {
		attrs = append(attrs, semconv.GenAIRequestTemperature(*call.Temperature))
	}
	name := operation
	if call.Model != "" {
		name += " " + call.Model
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, func(o *klaxontype.ModelCallOutcome) {
		if o.ResponseModel != "" {
			span.SetAttributes(semconv.GenAIResponseModel(o.ResponseModel))
		}
		if o.FinishReason != "" {
			span.SetAttributes(semconv.GenAIResponseFinishReasons(o.FinishReason))
		}
		if o.Usage != (klaxontype.TokenUsage{}) {
			span.SetAttributes(
				semconv.GenAIUsageInputTokens(int(o.Usage.InputTokens)),
				semconv.GenAIUsageOutputTokens(int(o.Usage.OutputTokens)),
				semconv.GenAIUsageCacheReadInputTokens(int(o.Usage.CachedTokens)))
			setCost(span, AttrCostUSD, o.Cost)
		}
		if o.Err != nil {
			fail(span, o.Class, "", o.Err)
		}
		span.End()
	}
}

// StartToolCall starts a tool call's span, named "execute_tool NAME". A tool
// error returned to the model marks the span failed with error.type
// tool_error; one that fails the step carries its failure class.
func (t *Tracer) StartToolCall(ctx context.Context, call *klaxontype.ToolCall) (context.Context, func(*klaxontype.ToolCallOutcome)) {
	attrs := []attribute.KeyValue{
		semconv.GenAIOperationNameExecuteTool, semconv.GenAIToolName(call.Name), semconv.GenAIToolType("function"),
	}
	if call.CallID != "" {
		attrs = append(attrs, semconv.GenAIToolCallID(call.CallID))
	}
	ctx, span := t.tracer.Start(ctx, "execute_tool "+call.Name, trace.WithAttributes(attrs...))
	return ctx, func(o *klaxontype.ToolCallOutcome) {
		if o.Err != nil {
			fail(span, o.Class, "tool_error", o.Err)
		}
		span.End()
	}
}

// fail marks a span failed: status Error with the error's message, the
// failure class as klaxon.failure_class and as error.type (a class is the
// low-cardinality kind of error the semantic conventions ask for there).
// Without a class, error.type is unclassified, or else the error's Go type.
func fail(span trace.Span, class klaxontype.FailureClass, unclassified string, err error) {
	errorType := string(class)
	switch {
	case class != "":
		span.SetAttributes(AttrFailureClass.String(string(class)))
	case unclassified != "":
		errorType = unclassified
	case err != nil:
		errorType = fmt.Sprintf("%T", err)
	default:
		errorType = "_OTHER"
	}
	span.SetAttributes(semconv.ErrorTypeKey.String(errorType))
	message := ""
	if err != nil {
		message = err.Error()
	}
	span.SetStatus(codes.Error, message)
}

// setCost records a cost in dollars, or that it is unknown: an unknown cost is
// never written as zero.
func setCost(span trace.Span, key attribute.Key, cost klaxontype.Cost) {
	if cost.Unknown {
		span.SetAttributes(AttrCostUnknown.Bool(true))
		return
	}
	span.SetAttributes(key.Float64(cost.USD))
}
