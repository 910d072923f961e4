// Package llm makes a model call a durable step. The request is hashed and the
// whole response (content, tool calls, finish reason, model, token usage) is
// stored in the step log: on any later attempt, or after a replay with resume,
// the stored response is returned and the provider is not called again.
//
// Providers are thin adapters over the official SDKs, in llm/openai and
// llm/anthropic; this package and the engine depend on neither. Adapters turn
// the SDKs' own retries off, so that every attempt is Klaxon's and is in the
// run's history, and map provider errors to failure classes with ClassifyHTTP.
//
// It may import only the standard library, the root package, klaxontype,
// github.com/santhosh-tekuri/jsonschema/v6 and golang.org/x/text.
package llm
