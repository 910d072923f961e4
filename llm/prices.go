package llm

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
	// CachedInput is the price of input tokens read from the prompt cache;
	// zero means they cost as much as other input.
	CachedInput float64 `json:"cached_input,omitempty"`
}

// Prices maps model names to prices. A dated model name ("gpt-4o-2024-08-06",
// "claude-sonnet-4-20250514") or one ending in "-latest" takes the price of the
// listed name it extends; any other unlisted name is unknown, so that a newer
// model ("claude-opus-4-5") is never priced as an older one.
type Prices map[string]Price

// DefaultPrices are list prices of common models (US dollars per million
// tokens, as published by the providers in 2025). They change: load your own
// with LoadPrices.
var DefaultPrices = Prices{
	"gpt-4o":            {Input: 2.50, Output: 10.00, CachedInput: 1.25},
	"gpt-4o-mini":       {Input: 0.15, Output: 0.60, CachedInput: 0.075},
	"gpt-4.1":           {Input: 2.00, Output: 8.00, CachedInput: 0.50},
	"gpt-4.1-mini":      {Input: 0.40, Output: 1.60, CachedInput: 0.10},
	"gpt-4.1-nano":      {Input: 0.10, Output: 0.40, CachedInput: 0.025},
	"o3":                {Input: 2.00, Output: 8.00, CachedInput: 0.50},
	"o4-mini":           {Input: 1.10, Output: 4.40, CachedInput: 0.275},
	"claude-opus-4":     {Input: 15.00, Output: 75.00, CachedInput: 1.50},
	"claude-sonnet-4":   {Input: 3.00, Output: 15.00, CachedInput: 0.30},
	"claude-3-7-sonnet": {Input: 3.00, Output: 15.00, CachedInput: 0.30},
	"claude-3-5-haiku":  {Input: 0.80, Output: 4.00, CachedInput: 0.08},
}

// Lookup finds a model's price.
func (p Prices) Lookup(model string) (Price, bool) {
	if price, ok := p[model]; ok {
		return price, true
	}
	for name, price := range p {
		if suffix, ok := strings.CutPrefix(model, name+"-"); ok && isVersionSuffix(suffix) {
			return price, true
		}
	}
	return Price{}, false
}

// isVersionSuffix accepts a snapshot date (2024-08-06, 20250514) or "latest".
func isVersionSuffix(suffix string) bool {
	if suffix == "latest" {
		return true
	}
	digits := strings.ReplaceAll(suffix, "-", "")
	if len(digits) != 8 || (len(suffix) != 8 && len(suffix) != 10) {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Cost prices a call's usage; a model not in the table has an unknown cost.
func (p Prices) Cost(model string, usage klaxontype.TokenUsage) klaxontype.Cost {
	price, ok := p.Lookup(model)
	if !ok {
		return klaxontype.UnknownCost()
	}
	cachedRate := price.CachedInput
	if cachedRate == 0 {
		cachedRate = price.Input
	}
	cached := min(usage.CachedTokens, usage.InputTokens)
	usd := (float64(usage.InputTokens-cached)*price.Input + float64(cached)*cachedRate + float64(usage.OutputTokens)*price.Output) / 1e6
	return klaxontype.KnownCost(usd)
}

// Merge returns the table with other's entries added or replacing.
func (p Prices) Merge(other Prices) Prices {
	merged := make(Prices, len(p)+len(other))
	for name, price := range p {
		merged[name] = price
	}
	for name, price := range other {
		merged[name] = price
	}
	return merged
}

// LoadPrices reads a JSON price file, {"model": {"input": 2.5, "output": 10,
// "cached_input": 1.25}, …}, in dollars per million tokens, and returns the
// default table with its entries added or replacing.
func LoadPrices(path string) (Prices, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("price file: %w", err)
	}
	var file Prices
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("price file %s: %w", path, err)
	}
	var bad []string
	for name, price := range file {
		if name == "" || price.Input < 0 || price.Output < 0 || price.CachedInput < 0 {
			bad = append(bad, fmt.Sprintf("%q", name))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("price file %s: negative price or empty model name for %s", path, strings.Join(bad, ", "))
	}
	return DefaultPrices.Merge(file), nil
}
