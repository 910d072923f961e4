package http_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
)

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	entry := f.deadEntry(operateSecret, nil)
	runs := f.runCount()
	oversized := `{"workflow":"greet","input":"` + strings.Repeat("x", klaxonhttp.DefaultMaxBodyBytes) + `"}`
	cases := []struct {
		name, method, path, body string
		status                   int
		words                    []string
	}{
		{"malformed JSON", "POST", "/api/v1/runs", `{"workflow":"greet",`, 400, []string{"not valid JSON", "ends before"}},
		{"not an object", "POST", "/api/v1/runs", `["greet"]`, 422, []string{"expected object"}},
		{"unknown field", "POST", "/api/v1/runs", `{"workflow":"greet","input":"x","priorty":9}`, 422, []string{"priorty"}},
		{"priority too high", "POST", "/api/v1/runs", `{"workflow":"greet","input":"x","priority":101}`, 422, []string{"priority", "100"}},
		{"priority too low", "POST", "/api/v1/runs", `{"workflow":"greet","input":"x","priority":-101}`, 422, []string{"priority", "-100"}},
		{"trailing data", "POST", "/api/v1/runs", `{"workflow":"greet","input":"x"} {"workflow":"greet"}`, 400, []string{"not valid JSON", "after the value"}},
		{"oversized body", "POST", "/api/v1/runs", oversized, 413, []string{"too large"}},
		{"no workflow", "POST", "/api/v1/runs", `{"input":"x"}`, 422, []string{"workflow"}},
		{"input of the wrong type", "POST", "/api/v1/runs", `{"workflow":"greet","input":42}`, 422, []string{"greet", "at /:", "got number"}},
		{"unknown workflow", "POST", "/api/v1/runs", `{"workflow":"gret","input":"x"}`, 404, []string{"urn:klaxon:problem:unknown-workflow", `unknown workflow \"gret\"`, "greet"}},
		{"empty entity key", "POST", "/api/v1/runs", `{"workflow":"greet","entities":{"":"x"}}`, 422, []string{"entity needs a key"}},
		{"bad status", "GET", "/api/v1/runs?status=bogus", "", 422, []string{"query.status", "bogus", "completed"}},
		{"bad cursor", "GET", "/api/v1/runs?cursor=not-a-cursor", "", 422, []string{"cursor"}},
		{"injection in a cursor", "GET", "/api/v1/runs?cursor=0'%20OR%201=1--", "", 422, []string{"cursor"}},
		{"bad limit", "GET", "/api/v1/runs?limit=0", "", 422, []string{"limit"}},
		{"huge limit", "GET", "/api/v1/runs?limit=1000000", "", 422, []string{"limit"}},
		{"misspelt filter", "GET", "/api/v1/runs?stauts=dead", "", 422, []string{"stauts"}},
		{"misspelt dlq filter", "GET", "/api/v1/dlq?clas=timeout", "", 422, []string{"clas"}},
		{"bad entity filter", "GET", "/api/v1/runs?entity=nokey", "", 422, []string{"key=value"}},
		{"bad class", "GET", "/api/v1/dlq?class=flaky", "", 422, []string{"query.class", "flaky", "transient"}},
		{"bad state", "GET", "/api/v1/dlq?state=closed", "", 422, []string{"query.state", "closed", "open"}},
		{"bad alert state", "GET", "/api/v1/alerts?state=open", "", 422, []string{"query.state", "open", "firing"}},
		{"bad since", "GET", "/api/v1/dlq?since=yesterday", "", 422, []string{"since"}},
		{"bad runs since", "GET", "/api/v1/runs?since=yesterday", "", 422, []string{"query.since", "yesterday"}},
		{"runs until without a zone", "GET", "/api/v1/runs?until=2026-11-27T10:00:00", "", 422, []string{"query.until"}},
		{"injection in runs since", "GET", "/api/v1/runs?since=0'%20OR%201=1--", "", 422, []string{"query.since"}},
		{"stats window not a duration", "GET", "/api/v1/stats?window=yesterday", "", 400, []string{"query.window", `\"yesterday\" is not a duration`}},
		{"stats window in days", "GET", "/api/v1/stats?window=7d", "", 400, []string{"query.window", "7d"}},
		{"stats window negative", "GET", "/api/v1/stats?window=-1h", "", 400, []string{"window", "not a positive duration"}},
		{"stats window over 90 days", "GET", "/api/v1/stats?window=2161h", "", 400, []string{"window", "90 days"}},
		{"stats step under a minute", "GET", "/api/v1/stats?step=30s", "", 400, []string{"query.step", "shorter than 1m0s"}},
		{"stats step of a fraction of a second", "GET", "/api/v1/stats?step=90.5s", "", 400, []string{"step", "whole number of seconds"}},
		{"stats of too many buckets", "GET", "/api/v1/stats?window=2160h&step=1m", "", 400, []string{"query.step", "129600 buckets", "at most 1000"}},
		{"stats step not a duration", "GET", "/api/v1/stats?window=1h&step=often", "", 400, []string{"query.step", "often"}},
		{"misspelt stats parameter", "GET", "/api/v1/stats?windw=1h", "", 422, []string{"windw"}},
		{"unknown run", "GET", "/api/v1/runs/nope", "", 404, []string{"not found"}},
		{"unknown entry", "POST", "/api/v1/dlq/nope/discard", `{"reason":"x"}`, 404, []string{"urn:klaxon:problem:not-found"}},
		{"bad replay mode", "POST", "/api/v1/dlq/" + entry.ID + "/replay", `{"mode":"rewind"}`, 422, []string{"mode"}},
		{"from-step of no step", "POST", "/api/v1/dlq/" + entry.ID + "/replay", `{"mode":"from-step","step":"nope"}`, 422, []string{`step \"nope\"`}},
		{"replay input not JSON", "POST", "/api/v1/dlq/" + entry.ID + "/replay", `{"input":nope}`, 400, []string{"invalid character"}},
		{"bulk without filter", "POST", "/api/v1/dlq/replay", `{"mode":"resume"}`, 422, []string{"all: true"}},
		{"bulk with bad class", "POST", "/api/v1/dlq/replay", `{"filter":{"classes":["flaky"]}}`, 422, []string{"flaky"}},
		{"bulk discard without filter", "POST", "/api/v1/dlq/discard", `{"reason":"x"}`, 422, []string{"all: true"}},
		{"bulk discard without reason", "POST", "/api/v1/dlq/discard", `{"all":true}`, 422, []string{"reason"}},
		{"bulk discard with bad class", "POST", "/api/v1/dlq/discard", `{"filter":{"classes":["flaky"]},"reason":"x"}`, 422, []string{"flaky"}},
		{"resolve without output", "POST", "/api/v1/dlq/" + entry.ID + "/resolve", `{"step":"charge"}`, 422, []string{"output"}},
		{"resolve with wrong type", "POST", "/api/v1/dlq/" + entry.ID + "/resolve", `{"step":"charge","output":"twelve"}`, 422, []string{"output type"}},
		{"discard without reason", "POST", "/api/v1/dlq/" + entry.ID + "/discard", `{"reason":""}`, 422, []string{"reason"}},
		{"no such route", "GET", "/api/v1/queues", "", 404, []string{"no route"}},
		{"wrong method", "DELETE", "/api/v1/runs", "", 404, []string{"no route"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.do(c.method, c.path, adminSecret, c.body).wantProblem(t, c.status, c.words...)
		})
	}
	if got := f.runCount(); got != runs {
		t.Fatalf("%d runs after bad requests, want %d", got, runs)
	}
	after, err := f.client(readSecret).DeadLetter(context.Background(), entry.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.State != klaxontype.DeadLetterOpen {
		t.Fatalf("entry is %s after bad requests, want open", after.State)
	}
}

func TestConcurrentIdempotentEnqueueCreatesOneRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	client := f.client(operateSecret)
	const requests = 50
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]int{}
		created int
	)
	for range requests {
		wg.Go(func() {
			result, err := client.Enqueue(context.Background(), &klaxonhttp.EnqueueRequest{
				Workflow: "greet", Input: json.RawMessage(`"once"`), IdempotencyKey: "only-once",
			})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[result.Run.ID]++
			if !result.Deduplicated {
				created++
			}
		})
	}
	wg.Wait()
	if len(ids) != 1 || created != 1 {
		t.Fatalf("%d requests gave runs %v, %d created; want one run created once", requests, ids, created)
	}
	if got := f.runCount(); got != 1 {
		t.Fatalf("%d runs in the store, want 1", got)
	}
}
