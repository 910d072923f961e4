// Package tracing exports Klaxon's traces with OpenTelemetry. A Tracer set as
// klaxon.Config.Tracer makes spans of what the client's workers do:
//
//   - one span per attempt of a run, "run WORKFLOW", a root span: workflow,
//     run ID, attempt, entity IDs (klaxon.entity.KEY), and at its end how it
//     ended (klaxon.attempt.result), the failure class, retries, tokens and
//     cost. With the ID generator RunTraceIDs (FromEnvironment uses it) every
//     attempt of a run is in one trace whose ID is the run's ULID (TraceID).
//     A child run's attempt names the run and step that started it
//     (klaxon.parent.run.id, klaxon.parent.step.seq, klaxon.parent.step.name)
//     and, with RunTraceIDs, links to the parent's trace;
//   - one span per step call, "step NAME", a child of the attempt: step name
//     and sequence number, how it ended (completed, failed, replayed), the
//     failure class and error.type when it failed. A step answered from the
//     step log is "step NAME (replayed)" with klaxon.step.replayed=true and no
//     children: its function did not run. A step that started a child run
//     names it (klaxon.child.run.id) and links to its trace;
//   - one span per model call made with llm.Call, "chat MODEL", a child of
//     its step, with the GenAI semantic-convention attributes (semantic
//     conventions 1.41): gen_ai.operation.name, gen_ai.provider.name (and the
//     older gen_ai.system), gen_ai.request.model, gen_ai.response.model,
//     gen_ai.usage.input_tokens, gen_ai.usage.output_tokens,
//     gen_ai.usage.cache_read.input_tokens, gen_ai.response.finish_reasons,
//     and the call's cost (klaxon.cost_usd, or klaxon.cost_unknown);
//   - one span per tool call made with llm.ExecuteTool, "execute_tool NAME".
//
// A failed span has status Error with the error's message, and its failure
// class as klaxon.failure_class and error.type.
//
// FromEnvironment sets up an OTLP/HTTP exporter from the standard OTEL_*
// environment variables, and nothing when none asks for traces.
//
// It is an adapter: nothing in Klaxon's core imports it. It may import only
// the standard library, klaxontype, github.com/oklog/ulid/v2 and
// go.opentelemetry.io/otel.
package tracing
