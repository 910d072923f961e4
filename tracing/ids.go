package tracing

import (
	"context"
	"encoding/binary"
	"math/rand/v2"

	"github.com/oklog/ulid/v2"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TraceID is the ID of the trace that holds the attempts of a run when the
// provider generates IDs with RunTraceIDs: the run's ULID as 16 bytes, so that
// a run ID is all it takes to find its trace. It reports false for an ID that
// is not a ULID.
func TraceID(runID string) (trace.TraceID, bool) {
	id, err := ulid.ParseStrict(runID)
	if err != nil || id == (ulid.ULID{}) {
		return trace.TraceID{}, false
	}
	return trace.TraceID(id), true
}

type runTraceIDKey struct{}

// withRunTraceID asks the ID generator for the run's trace ID for the root
// span started from ctx.
func withRunTraceID(ctx context.Context, runID string) context.Context {
	id, ok := TraceID(runID)
	if !ok {
		return ctx
	}
	return context.WithValue(ctx, runTraceIDKey{}, id)
}

// RunTraceIDs returns an ID generator for an SDK TracerProvider
// (sdktrace.WithIDGenerator) that gives the span of each attempt of a run the
// trace ID TraceID(runID): every attempt of a run, in any worker process that
// uses it, lands in one trace. Other IDs are random.
func RunTraceIDs() sdktrace.IDGenerator { return runTraceIDs{} }

type runTraceIDs struct{}

// NewIDs returns the run's trace ID for an attempt's span, a random one for
// any other root span, and a random span ID.
func (runTraceIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	traceID, ok := ctx.Value(runTraceIDKey{}).(trace.TraceID)
	if !ok {
		for !traceID.IsValid() {
			binary.BigEndian.PutUint64(traceID[:8], rand.Uint64())
			binary.BigEndian.PutUint64(traceID[8:], rand.Uint64())
		}
	}
	return traceID, newSpanID()
}

// NewSpanID returns a random span ID.
func (runTraceIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }

func newSpanID() trace.SpanID {
	var id trace.SpanID
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:], rand.Uint64())
	}
	return id
}
