package anthropic

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// fakeAnthropic is an httptest server that answers POST /v1/messages in the
// Messages API's wire format and counts the requests it saw, so a test can
// tell that the SDK did not retry behind Klaxon's back.
type fakeAnthropic struct {
	*httptest.Server
	requests atomic.Int64
}

func newFakeAnthropic(t *testing.T, handle http.HandlerFunc) *fakeAnthropic {
	t.Helper()
	fake := &fakeAnthropic{}
	fake.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.requests.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
			writeAPIError(w, http.StatusNotFound, "not_found_error", "Not found: "+r.Method+" "+r.URL.Path)
			return
		}
		handle(w, r)
	}))
	t.Cleanup(fake.Close)
	return fake
}

// provider returns a Provider that talks to the fake server.
func (f *fakeAnthropic) provider(options ...Option) *Provider {
	return New(append([]Option{WithAPIKey("sk-ant-test-key"), WithBaseURL(f.URL)}, options...)...)
}

// writeAPIError writes an error as the Messages API does.
func writeAPIError(w http.ResponseWriter, status int, errorType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_011CSHoEeqs5C35K2UUqR7Fy")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "error",
		"error": map[string]any{
			"type":    errorType,
			"message": message,
		},
		"request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
	})
}

// writeMessage writes a successful Messages API response body.
func writeMessage(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_011CSHoEeqs5C35K2UUqR7Fy")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}
