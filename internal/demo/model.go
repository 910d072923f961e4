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
)

// FailureRates are the chances, each from 0 to 1, that one simulated model
// call goes wrong in a given way.
type FailureRates struct {
	// Error is a provider error (an overloaded 503): transient, retried.
	Error float64
	// Slow is an answer slower than the step timeout: a timeout, retried.
	Slow float64
	// Wrong is an answer outside what was asked for: semantic, retried.
	Wrong float64
	// Panic is a crash in the client code: permanent, to the dead-letter queue.
	Panic float64
}

// DefaultFailureRates fail about one model call in four, so a demo of fifty
// runs shows retries of every kind and a few dead runs.
var DefaultFailureRates = FailureRates{Error: 0.12, Slow: 0.05, Wrong: 0.05, Panic: 0.01}

// Model is a simulated language model. Its answers are a function of the
// prompt; its failures are random, like a real provider's.
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

// Complete answers a prompt with one of the given choices, after a simulated
// network delay, or fails.
func (m *Model) Complete(ctx context.Context, prompt string, choices []string) (string, error) {
	chance, delay := m.roll()
	rates := m.rates
	switch {
	case chance < rates.Panic:
		panic("simulated model client bug: nil response body")
	case chance < rates.Panic+rates.Error:
		if err := wait(ctx, delay/2); err != nil { // a 503 comes back fast
			return "", err
		}
		return "", klaxon.Transient(errOverloaded)
	case chance < rates.Panic+rates.Error+rates.Slow:
		delay = m.slow
	}
	if err := wait(ctx, delay); err != nil {
		return "", err
	}
	if chance < rates.Panic+rates.Error+rates.Slow+rates.Wrong {
		return "I'm sorry, as a language model I cannot classify this.", nil
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

// validChoice checks a model's answer against what it was asked for.
func validChoice(answer string, choices []string) error {
	for _, choice := range choices {
		if answer == choice {
			return nil
		}
	}
	return klaxon.Semantic(fmt.Errorf("model answered %q, not one of %s", truncate(answer, 40), strings.Join(choices, ", ")))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
