package http_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/protocol"
)

// TestRateLimitsAPI lists the declared limits with their state, and lets a
// worker of another language acquire and settle capacity: granted while
// the budget lasts, then told when it is due, and 404 for an undeclared
// key.
func TestRateLimitsAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	for _, bad := range []string{`{"key":"k","requests":0,"per_ms":1000}`, `{"key":"k","requests":5,"per_ms":0}`,
		`{"key":"","requests":5,"per_ms":1000}`, `{"key":"k","requests":5,"tokens":-1,"per_ms":1000}`} {
		if resp := f.do(http.MethodPost, "/api/v1/ratelimits", operateSecret, bad); resp.status != http.StatusUnprocessableEntity {
			t.Errorf("declaring %s: %d %s; want 422", bad, resp.status, resp.body)
		}
	}
	if limits, err := f.worker.RateLimits(t.Context()); err != nil || len(limits) != 0 {
		t.Fatalf("after refused declarations: %+v (%v)", limits, err)
	}
	if resp := f.do(http.MethodPost, "/api/v1/ratelimits", readSecret, `{"key":"k","requests":5,"per_ms":1000}`); resp.status != http.StatusForbidden {
		t.Errorf("a reader declaring: %d; want 403", resp.status)
	}
	if resp := f.do(http.MethodPost, "/api/v1/ratelimits", operateSecret,
		`{"key":"openai/gpt-4o-mini","requests":2,"tokens":1000,"per_ms":3600000}`); resp.status != http.StatusOK {
		t.Fatalf("declare: %d %s", resp.status, resp.body)
	}
	acquire := func(body string) (int, protocol.RateLimitAcquireAnswer) {
		t.Helper()
		resp := f.do(http.MethodPost, "/api/v1/worker/ratelimits/acquire", workerSecret, body)
		var answer protocol.RateLimitAcquireAnswer
		if resp.status == http.StatusOK {
			if err := json.Unmarshal(resp.body, &answer); err != nil {
				t.Fatal(err)
			}
		}
		return resp.status, answer
	}
	for i := range 2 {
		status, answer := acquire(`{"worker_id":"py-1","key":"openai/gpt-4o-mini","tokens":300}`)
		if status != http.StatusOK || !answer.Granted || answer.WaitMS != 0 || answer.Tokens != 300 {
			t.Fatalf("acquisition %d: %d %+v; want granted at once", i+1, status, answer)
		}
	}
	status, answer := acquire(`{"worker_id":"py-1","key":"openai/gpt-4o-mini"}`)
	if status != http.StatusOK || answer.Granted || answer.RetryAt.Before(time.Now().Add(29*time.Minute)) {
		t.Fatalf("a third request of 2 per hour: %d %+v; want refused, due in about 30 minutes", status, answer)
	}
	if status, _ := acquire(`{"worker_id":"py-1","key":"nobody/model"}`); status != http.StatusNotFound {
		t.Errorf("an undeclared key: %d; want 404", status)
	}
	if resp := f.do(http.MethodPost, "/api/v1/worker/ratelimits/settle", workerSecret,
		`{"worker_id":"py-1","key":"openai/gpt-4o-mini","reserved":300,"used":500}`); resp.status >= 300 {
		t.Fatalf("settle: %d %s", resp.status, resp.body)
	}
	resp := f.do(http.MethodGet, "/api/v1/ratelimits", readSecret, "")
	var list klaxonhttp.RateLimitList
	if err := json.Unmarshal(resp.body, &list); err != nil || resp.status != http.StatusOK {
		t.Fatalf("%d %s (%v)", resp.status, resp.body, err)
	}
	if len(list.RateLimits) != 1 || list.RateLimits[0].State.RequestsAvailable != 0 ||
		list.RateLimits[0].State.TokensAvailable < 195 || list.RateLimits[0].State.TokensAvailable > 200 {
		t.Errorf("listed %s; want one limit, no request and about 200 tokens available", resp.body)
	}
	if resp := f.do(http.MethodPost, "/api/v1/worker/ratelimits/acquire", readSecret, `{"worker_id":"x","key":"openai/gpt-4o-mini"}`); resp.status != http.StatusForbidden {
		t.Errorf("a reader acquiring: %d; want 403", resp.status)
	}
}
