package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// FailureRates are the chances, each from 0 to 1, that one simulated model
// call goes wrong in a given way.
type FailureRates struct {
	// Error is a provider error (an overloaded 503): transient, retried.
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

// contextWindow is the simulated model's context window, in characters.
const contextWindow = 2000

// disallowedMarker makes the simulated content filter refuse a prompt.
const disallowedMarker = "[disallowed content]"

// Model is a simulated language model. Its answers are a function of the
// prompt; its failures are random, like a real provider's, except the ones a
// prompt causes: too long for the context window, or refused by the content
// filter, on every try.
type Model struct {
	rates   FailureRates
	latency time.Duration
	slow    time.Duration

	mu   sync.Mutex
	rand *rand.Rand
}

// NewModel returns a simulated model that fails at the given rates. A zero
// seed picks a random one.
func NewModel(rates FailureRates, seed uint64) *Model {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &Model{
		rates: rates, latency: 5 * time.Millisecond, slow: 2 * time.Second,
		rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

func (m *Model) roll() (float64, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rand.Float64(), time.Duration(m.rand.Int64N(int64(m.latency))) + m.latency
}

// errOverloaded is what a provider answers when it sheds load.
var errOverloaded = errors.New("model provider overloaded (HTTP 503)")

// rateLimitError is a provider's 429, with the delay it asks for.
type rateLimitError struct{ after time.Duration }

func (e *rateLimitError) Error() string {
	return fmt.Sprintf("rate limited (HTTP 429), retry after %s", e.after)
}

// FailureClass makes a 429 rate_limited.
func (e *rateLimitError) FailureClass() klaxontype.FailureClass { return klaxontype.ClassRateLimited }

// RetryAfter is the provider's Retry-After.
func (e *rateLimitError) RetryAfter() time.Duration { return e.after }

// Complete answers a prompt with one of the given choices, after a simulated
// network delay, or fails.
func (m *Model) Complete(ctx context.Context, prompt string, choices []string) (string, error) {
	if len(prompt) > contextWindow {
		return "", klaxon.WithClass(klaxontype.ClassContextOverflow,
			fmt.Errorf("prompt of %d characters exceeds the model's context window of %d (context_length_exceeded)", len(prompt), contextWindow))
	}
	if strings.Contains(prompt, disallowedMarker) {
		return "", klaxon.PolicyViolation(errors.New("the provider's content filter refused the prompt (finish_reason: content_filter)"))
	}
	chance, delay := m.roll()
	r := m.rates
	switch {
	case chance < r.Panic:
		panic("simulated model client bug: nil response body")
	case chance < r.Panic+r.Error:
		if err := wait(ctx, delay/2); err != nil { // a 503 comes back fast
			return "", err
		}
		return "", klaxon.Transient(errOverloaded)
	case chance < r.Panic+r.Error+r.RateLimit:
		if err := wait(ctx, delay/2); err != nil {
			return "", err
		}
		return "", &rateLimitError{after: 100*time.Millisecond + 10*delay}
	case chance < r.Panic+r.Error+r.RateLimit+r.Slow:
		delay = m.slow
	}
	if err := wait(ctx, delay); err != nil {
		return "", err
	}
	if chance < r.Sum() {
		return "SKU-9999", nil // confidently made up
	}
	return choices[checksum(prompt)%len(choices)], nil
}

func wait(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
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

// oneOf is a step validator: the model's answer must be one of the choices.
func oneOf(choices []string) func(string) error {
	return func(answer string) error {
		for _, choice := range choices {
			if answer == choice {
				return nil
			}
		}
		return fmt.Errorf("model answered %q, which is not one of %s", truncate(answer, 40), strings.Join(choices, ", "))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
