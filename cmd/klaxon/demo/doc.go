// Package demo is Klaxon's demonstration job: a document-processing workflow
// whose classify and enrich steps are recorded model calls through the OpenAI
// adapter, and a runner that enqueues runs, works them and summarises what
// happened, tokens and cost included. By default the model is a fake
// OpenAI-compatible server the demo starts on a loopback port, which fails
// the way real providers do (errors, rate limits, answers past the step
// timeout, wrong answers, prompts too long or refused, an agent that never
// stops calling tools); it can be pointed at a real endpoint instead.
//
// It may import only the standard library, the root package, klaxontype,
// store, llm and llm/openai; the command wires it to a concrete store.
package demo
