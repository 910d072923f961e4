package klaxontype

import "time"

// RateLimit is a named budget of requests, and optionally of model tokens,
// per period, shared by every worker of the database: for example 500
// requests and 200,000 tokens per minute for "openai/gpt-4o-mini". A step
// that draws on it waits for capacity instead of calling and being refused
// with a 429.
//
// The limit is a generic cell rate (GCRA): Requests may be spent at once,
// as a burst, and then one more every Per/Requests; over any span T at most
// Requests + T*Requests/Per are granted. Tokens, when not zero, is a second budget of
// the same shape, charged with the tokens a step actually used.
type RateLimit struct {
	// Key names the limit; llm.Call draws on "provider/model".
	Key string `json:"key"`
	// Requests is how many step executions the limit grants per Per.
	Requests int64 `json:"requests"`
	// Tokens is how many model tokens (input and output) it grants per
	// Per; zero is no token limit.
	Tokens int64 `json:"tokens,omitempty"`
	// Per is the limit's period.
	Per time.Duration `json:"per"`
	// UpdatedAt is when the limit was last declared.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// State is how much of the limit is spent, as of when it was read.
	State *RateLimitState `json:"state,omitempty"`
}

// RateLimitState is a rate limit's capacity as of a time.
type RateLimitState struct {
	// At is the time the state was computed for.
	At time.Time `json:"at"`
	// RequestsAvailable is how many requests could be granted at once.
	RequestsAvailable int64 `json:"requests_available"`
	// TokensAvailable is how many tokens could be reserved at once;
	// negative when steps used more than was reserved for them (a debt
	// the next acquisitions wait out). Zero when the limit has no tokens.
	TokensAvailable int64 `json:"tokens_available"`
	// RequestsNext and TokensNext are the theoretical arrival times of the
	// GCRA: capacity is full again once they have passed.
	RequestsNext time.Time `json:"requests_next"`
	TokensNext   time.Time `json:"tokens_next,omitzero"`
}

// RateLimitGrant is the answer to one acquisition of a rate limit.
type RateLimitGrant struct {
	// Granted is true when the capacity is reserved: the caller may call
	// once Wait has passed. False when the wait would exceed the caller's
	// longest acceptable wait: nothing is reserved, and the caller comes
	// back at RetryAt.
	Granted bool `json:"granted"`
	// Wait is how long the caller waits before calling (zero for at once),
	// counted from when the store decided.
	Wait time.Duration `json:"wait"`
	// RetryAt is, for a refused acquisition, when the capacity it asked
	// for is due.
	RetryAt time.Time `json:"retry_at,omitzero"`
	// Tokens is how many tokens were reserved (the estimate, capped at the
	// limit's Tokens); the caller settles the difference with actual usage.
	Tokens int64 `json:"tokens"`
}
