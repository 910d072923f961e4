package klaxontype

import (
	"encoding/json"
	"fmt"
	"time"
)

// TokenUsage counts the tokens of model calls.
type TokenUsage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	// CachedTokens are input tokens served from the provider's prompt cache,
	// included in InputTokens.
	CachedTokens int64 `json:"cached_tokens"`
}

// Total is input plus output tokens.
func (u TokenUsage) Total() int64 { return u.InputTokens + u.OutputTokens }

// Add returns the sum of two usages.
func (u TokenUsage) Add(other TokenUsage) TokenUsage {
	return TokenUsage{
		InputTokens:  u.InputTokens + other.InputTokens,
		OutputTokens: u.OutputTokens + other.OutputTokens,
		CachedTokens: u.CachedTokens + other.CachedTokens,
	}
}

// Cost is an amount of US dollars that may be unknown: a model missing from
// the price table has an unknown cost, and so has every total it is part of.
// An unknown cost is never shown, summed or compared as zero.
type Cost struct {
	USD     float64
	Unknown bool
}

// KnownCost is a known amount.
func KnownCost(usd float64) Cost { return Cost{USD: usd} }

// UnknownCost is the cost of a call whose price is not known.
func UnknownCost() Cost { return Cost{Unknown: true} }

// Add sums two costs; unknown wins.
func (c Cost) Add(other Cost) Cost {
	if c.Unknown || other.Unknown {
		return Cost{Unknown: true}
	}
	return Cost{USD: c.USD + other.USD}
}

// String prints dollars, or "unknown".
func (c Cost) String() string {
	if c.Unknown {
		return "unknown"
	}
	return fmt.Sprintf("$%.6f", c.USD)
}

// MarshalJSON writes a number of dollars, or the string "unknown".
func (c Cost) MarshalJSON() ([]byte, error) {
	if c.Unknown {
		return []byte(`"unknown"`), nil
	}
	return json.Marshal(c.USD)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Cost) UnmarshalJSON(data []byte) error {
	if string(data) == `"unknown"` {
		*c = Cost{Unknown: true}
		return nil
	}
	var usd float64
	if err := json.Unmarshal(data, &usd); err != nil {
		return fmt.Errorf("cost must be a number of dollars or \"unknown\": %w", err)
	}
	*c = Cost{USD: usd}
	return nil
}

// Spend is what model calls cost: tokens, dollars and the number of calls.
type Spend struct {
	Usage      TokenUsage `json:"usage"`
	Cost       Cost       `json:"cost"`
	ModelCalls int        `json:"model_calls"`
}

// Add sums two spends.
func (s Spend) Add(other Spend) Spend {
	return Spend{Usage: s.Usage.Add(other.Usage), Cost: s.Cost.Add(other.Cost), ModelCalls: s.ModelCalls + other.ModelCalls}
}

// IsZero reports whether nothing was spent.
func (s Spend) IsZero() bool { return s == Spend{} }

// SpendBucket is what a workflow's runs that ended in one time bucket spent.
type SpendBucket struct {
	// Start is the beginning of the bucket.
	Start time.Time `json:"start"`
	// Runs counts the runs that reached a terminal status in the bucket.
	Runs int `json:"runs"`
	// Retries sums their retries.
	Retries int   `json:"retries"`
	Spend   Spend `json:"spend"`
}
