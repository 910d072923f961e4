package alert

import (
	"sync"
	"time"
)

// BaselineRefresh is how long an evaluator reuses a trailing baseline (a
// day of dead letters, spend, or run durations) before reading it again: it
// moves by minutes over hours, and reading it every evaluation would scan a
// day of runs every 30 seconds.
const BaselineRefresh = 5 * time.Minute

// baselines caches what the rules read of their trailing baselines, by key,
// with the evaluation time it was read at.
type baselines struct {
	mu      sync.Mutex
	entries map[string]baseline
}

type baseline struct {
	at    time.Time
	value any
}

// get returns the cached value of key, unless it is older than
// BaselineRefresh at now or was read at a later time (a clock set back).
func (b *baselines) get(key string, now time.Time) (any, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	entry, ok := b.entries[key]
	if !ok || now.Before(entry.at) || now.Sub(entry.at) >= BaselineRefresh {
		return nil, false
	}
	return entry.value, true
}

func (b *baselines) put(key string, now time.Time, value any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.entries == nil {
		b.entries = map[string]baseline{}
	}
	b.entries[key] = baseline{at: now, value: value}
}

// cachedBaseline reads a baseline through the cache.
func cachedBaseline[T any](b *baselines, key string, now time.Time, read func() (T, error)) (T, error) {
	if value, ok := b.get(key, now); ok {
		return value.(T), nil
	}
	value, err := read()
	if err != nil {
		return value, err
	}
	b.put(key, now, value)
	return value, nil
}
