package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
)

// Effects counts the side effects of scenario runs over HTTP, as an external
// API would see them, and holds steps that block until the harness releases
// them. Counting outside the worker makes "fail the first N times" and "block
// the first time" mean the same in every language, with no state kept in a
// worker process (which the harness may kill).
//
// Workers speak to it with JSON requests:
//
//	POST /hit   {"key": K, "effect": E}  → {"count": N}  (the Nth time E happened for K)
//	GET  /count?key=K&effect=E           → {"count": N}
//	POST /block {"key": K, "effect": E}  → {"released": true}, once the harness releases E of K
type Effects struct {
	mu       sync.Mutex
	counts   map[string]map[string]int
	released map[string]bool
	// waiting counts the requests blocked on each key/effect.
	waiting map[string]int
	// changed is closed and replaced whenever anything changes.
	changed chan struct{}
}

// NewEffects returns an empty effects server's state; serve its Handler.
func NewEffects() *Effects {
	return &Effects{
		counts: map[string]map[string]int{}, released: map[string]bool{},
		waiting: map[string]int{}, changed: make(chan struct{}),
	}
}

type effectRequest struct {
	Key    string `json:"key"`
	Effect string `json:"effect"`
}

type countResponse struct {
	Count int `json:"count"`
}

func blockID(key, effect string) string { return key + "\x00" + effect }

// notifyLocked wakes everything waiting for a change.
func (e *Effects) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// Handler serves the workers' requests.
func (e *Effects) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hit", func(w http.ResponseWriter, r *http.Request) {
		var request effectRequest
		if !decodeEffect(w, r, &request) {
			return
		}
		e.mu.Lock()
		if e.counts[request.Key] == nil {
			e.counts[request.Key] = map[string]int{}
		}
		e.counts[request.Key][request.Effect]++
		count := e.counts[request.Key][request.Effect]
		e.notifyLocked()
		e.mu.Unlock()
		writeJSON(w, countResponse{Count: count})
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, countResponse{Count: e.Count(r.URL.Query().Get("key"), r.URL.Query().Get("effect"))})
	})
	mux.HandleFunc("POST /block", func(w http.ResponseWriter, r *http.Request) {
		var request effectRequest
		if !decodeEffect(w, r, &request) {
			return
		}
		id := blockID(request.Key, request.Effect)
		e.mu.Lock()
		e.waiting[id]++
		e.notifyLocked()
		defer func() {
			e.mu.Lock()
			e.waiting[id]--
			e.notifyLocked()
			e.mu.Unlock()
		}()
		for !e.released[id] {
			changed := e.changed
			e.mu.Unlock()
			select {
			case <-changed:
			case <-r.Context().Done():
				return // the worker gave up (its step was cancelled, or it died)
			}
			e.mu.Lock()
		}
		e.mu.Unlock()
		writeJSON(w, map[string]bool{"released": true})
	})
	return mux
}

func decodeEffect(w http.ResponseWriter, r *http.Request, request *effectRequest) bool {
	if err := json.NewDecoder(r.Body).Decode(request); err != nil || request.Key == "" || request.Effect == "" {
		http.Error(w, "want a JSON body {\"key\": …, \"effect\": …}", http.StatusBadRequest)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, value any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(value)
}

// Count is how many times effect happened for key.
func (e *Effects) Count(key, effect string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[key][effect]
}

// Counts is every effect of key with its count.
func (e *Effects) Counts(key string) map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	counts := map[string]int{}
	for effect, n := range e.counts[key] {
		counts[effect] = n
	}
	return counts
}

// WaitBlocked returns once a request blocks on effect of key.
func (e *Effects) WaitBlocked(ctx context.Context, key, effect string) error {
	id := blockID(key, effect)
	e.mu.Lock()
	for e.waiting[id] == 0 {
		changed := e.changed
		e.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("no step blocked on %s of %s: %w", effect, key, ctx.Err())
		}
		e.mu.Lock()
	}
	e.mu.Unlock()
	return nil
}

// Release lets every request blocked on effect of key return, and every later
// one return at once.
func (e *Effects) Release(key, effect string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.released[blockID(key, effect)] = true
	e.notifyLocked()
}

// EffectsClient is a worker's connection to the effects server.
type EffectsClient struct {
	URL    string
	Client *http.Client
}

// Hit records one occurrence of effect for key and returns how many times it
// has now happened.
func (c *EffectsClient) Hit(ctx context.Context, key, effect string) (int, error) {
	var response countResponse
	err := c.post(ctx, "/hit", key, effect, &response)
	return response.Count, err
}

// Block waits until the harness releases effect of key, or ctx ends.
func (c *EffectsClient) Block(ctx context.Context, key, effect string) error {
	return c.post(ctx, "/block", key, effect, nil)
}

// Count is how many times effect happened for key.
func (c *EffectsClient) Count(ctx context.Context, key, effect string) (int, error) {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet,
		c.URL+"/count?"+url.Values{"key": {key}, "effect": {effect}}.Encode(), nil)
	if err != nil {
		return 0, err
	}
	var response countResponse
	return response.Count, c.do(request, &response)
}

func (c *EffectsClient) post(ctx context.Context, path, key, effect string, into any) error {
	body, _ := json.Marshal(effectRequest{Key: key, Effect: effect})
	request, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	request.Header.Set("Content-Type", "application/json")
	return c.do(request, into)
}

func (c *EffectsClient) do(request *http.Request, into any) error {
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	response, err := client.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("effects server: %s %s: %s", request.Method, request.URL.Path, response.Status)
	}
	if into == nil {
		return nil
	}
	return json.NewDecoder(response.Body).Decode(into)
}
