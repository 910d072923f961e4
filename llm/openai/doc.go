// Package openai is the llm.Provider for OpenAI's Chat Completions API and for
// every server that speaks it (vLLM, Ollama, LM Studio, gateways): a thin
// adapter over the official SDK, github.com/openai/openai-go/v3.
//
// The SDK's own retries are always off. Klaxon owns every retry, so every
// attempt is one request in the run's history and none is charged twice
// unseen. Provider errors become *llm.ProviderError with a failure class;
// transport errors and context errors are returned as they are, wrapped, so
// the engine's classifier sees connection resets and deadlines.
//
// It may import only the standard library, llm, klaxontype and
// github.com/openai/openai-go/v3.
package openai
