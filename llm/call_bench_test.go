package llm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// instantProvider answers at once with a 1 KiB response, so the benchmark
// measures what recording adds, not a network.
type instantProvider struct{ content string }

func (p *instantProvider) Name() string { return "instant" }

func (p *instantProvider) Complete(context.Context, *llm.Request) (*llm.Response, error) {
	return &llm.Response{Model: "gpt-4o-mini", Content: p.content, FinishReason: "stop",
		Usage: klaxontype.TokenUsage{InputTokens: 300, OutputTokens: 256}}, nil
}

var kibResponse = strings.Repeat("A recorded answer of exactly one kibibyte. ", 24)[:1024]

// BenchmarkCallDirect is the baseline: the provider called without recording.
func BenchmarkCallDirect(b *testing.B) {
	provider := &instantProvider{content: kibResponse}
	request := &llm.Request{Model: "gpt-4o-mini", Messages: []llm.Message{{Role: llm.RoleUser, Content: "Summarize the report."}}}
	for b.Loop() {
		if _, err := provider.Complete(context.Background(), request); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallRecorded measures llm.Call with a 1 KiB response: hashing the
// request, pricing, encoding and checkpointing the response with its usage on
// SQLite with synchronous=FULL, one call at a time (nothing shares a commit).
func BenchmarkCallRecorded(b *testing.B) {
	provider := &instantProvider{content: kibResponse}
	request := &llm.Request{Model: "gpt-4o-mini", Messages: []llm.Message{{Role: llm.RoleUser, Content: "Summarize the report."}}}
	done := make(chan struct{})
	release := make(chan struct{})
	wf := klaxon.NewWorkflow("bench-calls", func(ctx context.Context, calls int) (int, error) {
		for range calls {
			if _, err := llm.Call(ctx, provider, "summarize", request); err != nil {
				return 0, err
			}
		}
		close(done)
		<-release
		return calls, nil
	})
	client := startClient(b, wf)
	b.ResetTimer()
	if _, err := wf.Enqueue(context.Background(), client, b.N); err != nil {
		b.Fatal(err)
	}
	<-done
	b.StopTimer()
	close(release)
}
