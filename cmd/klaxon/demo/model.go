package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/llm"
	"github.com/klaxonhq/klaxon/llm/openai"
)

// FailureRates are the chances, each from 0 to 1, that one model call goes
// wrong in a given way. The fake model server injects all but Panic, which is
// a bug in the demo's own client code.
type FailureRates struct {
	// Error is a provider error (HTTP 500): transient, retried.
	Error float64
	// RateLimit is a 429 with a Retry-After: retried no sooner than asked.
	RateLimit float64
	// Slow is an answer slower than the step timeout: a timeout, retried.
	Slow float64
	// Wrong is an answer outside what was asked for (a made-up product SKU):
	// the step's validator makes it a semantic failure, retried a few times.
	Wrong float64
	// Panic is a crash in the client code: permanent, to the dead-letter queue.
	Panic float64
}

// DefaultFailureRates fail about one model call in four, so a demo of fifty
// runs shows retries of every kind and a few dead runs.
var DefaultFailureRates = FailureRates{Error: 0.08, RateLimit: 0.05, Slow: 0.04, Wrong: 0.06, Panic: 0.01}

// Sum is the chance that a call fails in any of the random ways.
func (r FailureRates) Sum() float64 { return r.Error + r.RateLimit + r.Slow + r.Wrong + r.Panic }

// buggyClient is the demo's model client: the provider, with a bug in the
// code around it that crashes a call now and then. The panic happens inside
// the step, where the engine turns it into a permanent failure.
type buggyClient struct {
	llm.Provider
	rate float64

	mu   sync.Mutex
	rand *rand.Rand
}

func newBuggyClient(provider llm.Provider, rate float64, seed uint64) *buggyClient {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &buggyClient{Provider: provider, rate: rate, rand: rand.New(rand.NewPCG(seed^0x5bd1e995, seed))}
}

// Complete crashes at the client's rate, or asks the provider.
func (c *buggyClient) Complete(ctx context.Context, request *llm.Request) (*llm.Response, error) {
	c.mu.Lock()
	crash := c.rand.Float64() < c.rate
	c.mu.Unlock()
	if crash {
		panic("simulated model client bug: nil response body")
	}
	return c.Provider.Complete(ctx, request)
}

// choose finds the choice a model's answer names, forgiving the case,
// surrounding spaces, quotes and a final full stop that real models add.
func choose(answer string, choices []string) (string, bool) {
	trimmed := strings.Trim(strings.TrimSpace(answer), ".\"'` ")
	for _, choice := range choices {
		if strings.EqualFold(trimmed, choice) {
			return choice, true
		}
	}
	return "", false
}

// oneOf is a step validator: the model's answer must name one of the choices.
func oneOf(choices []string) func(string) error {
	return func(answer string) error {
		if _, ok := choose(answer, choices); !ok {
			return fmt.Errorf("model answered %q, which is not one of %s", truncate(answer, 40), strings.Join(choices, ", "))
		}
		return nil
	}
}

// toolCallOrOneOf is the validator of an agent's turn: it may ask for a tool,
// or give its final answer, which must name one of the choices.
func toolCallOrOneOf(choices []string) func(*llm.Response) error {
	answer := oneOf(choices)
	return func(response *llm.Response) error {
		if len(response.ToolCalls) > 0 {
			return nil
		}
		return answer(response.Content)
	}
}

// complete asks the model from inside the current step the way llm.Call does
// — the run's budget checked first, the response priced, its spend recorded
// with the step, the call traced — for a step whose output is the answer
// rather than the whole response. classify and enrich are such steps: a
// person resolving one from the dead-letter queue supplies the answer
// ("invoice"), which llm.Call's recorded response, with the hash of the
// request it answered, cannot take.
func complete(ctx context.Context, provider llm.Provider, request *llm.Request) (*llm.Response, error) {
	response, err := llm.Complete(ctx, provider, request, nil)
	if err != nil {
		return nil, err
	}
	return response, nil
}

func checksum(s string) int {
	sum := 0
	for _, r := range s {
		sum = sum*31 + int(r)
	}
	if sum < 0 {
		sum = -sum
	}
	return sum
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// fakeAPIKey is the key the demo sends its fake server, which only checks
// that there is one.
const fakeAPIKey = "sk-klaxon-demo"

// connectModel returns the pipeline's model: the OpenAI adapter pointed at
// options.LLM.BaseURL, or at a fake server it starts, with close to stop it.
// Either way the calls go through the demo's client code, with its bug.
func connectModel(options Options) (model Model, endpoint string, close func(), err error) {
	settings := options.LLM
	if settings.BaseURL != "" {
		if settings.Model == "" {
			return Model{}, "", nil, fmt.Errorf("a model server at %s needs a model name", settings.BaseURL)
		}
		if settings.Timeout <= 0 {
			settings.Timeout = 30 * time.Second
		}
		adapterOptions := []openai.Option{openai.WithBaseURL(settings.BaseURL)}
		if settings.APIKey != "" {
			adapterOptions = append(adapterOptions, openai.WithAPIKey(settings.APIKey))
		}
		provider := newBuggyClient(openai.New(adapterOptions...), options.Rates.Panic, options.Seed)
		return Model{Provider: provider, Name: settings.Model, Timeout: settings.Timeout, BaseURL: settings.BaseURL}, settings.BaseURL, func() {}, nil
	}
	fake, err := StartFakeLLM(options.Rates, options.Seed)
	if err != nil {
		return Model{}, "", nil, err
	}
	// Enough idle connections for every concurrent run, so that the demo
	// does not open a connection per call.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = max(options.Concurrency, 2)
	adapter := openai.New(openai.WithBaseURL(fake.BaseURL()), openai.WithAPIKey(fakeAPIKey),
		openai.WithHTTPClient(&http.Client{Transport: transport}))
	provider := newBuggyClient(adapter, options.Rates.Panic, options.Seed)
	close = func() {
		_ = fake.Close()
		transport.CloseIdleConnections()
	}
	return Model{Provider: provider, Name: FakeModelName, Timeout: fakeStepTimeout, BaseURL: fake.BaseURL()}, fake.BaseURL() + " (fake)", close, nil
}
