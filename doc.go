// Package klaxon is a durable execution engine for asynchronous AI-agent jobs:
// an AI job never fails silently.
//
// A workflow is an ordinary Go function made of steps. Each step's output is
// checkpointed in a durable step log; when a run is retried or taken over by
// another worker, the workflow function runs again from the top and every step
// that already completed returns its stored output instead of running again.
// A run ends completed with every step of its manifest, or dead in the
// dead-letter queue with its failure class, reason and attempt history.
//
// # The determinism rule
//
// Because a workflow function is re-executed on every attempt, everything it
// does outside a step must be deterministic: the same input and the same step
// outputs must lead to the same step calls, in the same order, with the same
// names. Everything non-deterministic — model calls, HTTP requests, reading the
// clock, random numbers, reading files or databases — belongs inside a step,
// whose result is recorded once and replayed afterwards. A run whose workflow
// calls a different step at a sequence number than its log recorded fails with
// the class nondeterminism and is not retried.
//
// # Getting started
//
// Open a store (sqlite.Open for the embedded one), create a Client, register
// workflows made with NewWorkflow, Start the client's workers and enqueue runs.
// See the examples.
//
// # Imports
//
// It may import only the standard library, klaxontype, store, protocol, internal/engine,
// internal/classify, internal/outbox, redact, github.com/oklog/ulid/v2,
// github.com/invopop/jsonschema, github.com/santhosh-tekuri/jsonschema/v6 and
// github.com/robfig/cron/v3: stores and adapters import the root package,
// never the other way round.
package klaxon
