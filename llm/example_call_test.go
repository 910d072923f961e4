package llm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
	"github.com/klaxonhq/klaxon/llm/openai"
	"github.com/klaxonhq/klaxon/sqlite"
)

// Call makes a model call a recorded step: the response is stored in the step
// log with its tokens and cost, and a retry of the run replays it instead of
// asking the model again. Here the model is a local server speaking OpenAI's
// Chat Completions wire format; any OpenAI-compatible server works the same.
func ExampleCall() {
	var requests atomic.Int32
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1733300000,
			"model": "gpt-4o-mini-2024-07-18",
			"choices": [{"index": 0, "finish_reason": "stop",
				"message": {"role": "assistant", "content": "invoice"}}],
			"usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}
		}`)
	}))
	defer model.Close()
	provider := openai.New(openai.WithAPIKey("sk-example"), openai.WithBaseURL(model.URL+"/v1"))

	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	var filings atomic.Int32
	file := klaxon.NewWorkflow("file-document", func(ctx context.Context, document string) (string, error) {
		response, err := llm.Call(ctx, provider, "classify", &llm.Request{
			Model:    "gpt-4o-mini",
			System:   "Answer with one word: invoice, contract or letter.",
			Messages: []llm.Message{{Role: llm.RoleUser, Content: document}},
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "file", func(ctx context.Context) (string, error) {
			if filings.Add(1) == 1 {
				return "", errors.New("archive unavailable") // retried; the model is not asked again
			}
			return "filed under " + response.Content, nil
		})
	}, klaxon.WithRetryPolicy(klaxontype.RetryPolicy{
		MaxAttempts: 3, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 10 * time.Millisecond,
	}))

	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if err := client.Register(file); err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	defer client.Stop(ctx)

	result, err := file.Enqueue(ctx, client, "Invoice no. 17: 3 hours of consulting, 450 EUR")
	if err != nil {
		panic(err)
	}
	out, err := file.Await(ctx, client, result.Run.ID)
	fmt.Println(out, err)
	run, err := client.Run(ctx, result.Run.ID)
	if err != nil {
		panic(err)
	}
	fmt.Printf("attempts %d, requests to the model %d\n", run.Attempt, requests.Load())
	fmt.Printf("%d model call, %d tokens, %s\n", run.Spend.ModelCalls, run.Spend.Usage.Total(), run.Spend.Cost)
	// Output:
	// filed under invoice <nil>
	// attempts 2, requests to the model 1
	// 1 model call, 1500 tokens, $0.000450
}
