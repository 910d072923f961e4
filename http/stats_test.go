package http_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
)

func TestStats(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	operator := f.client(operateSecret)
	for _, name := range []string{"ada", "grace"} {
		enqueued, err := operator.Enqueue(ctx, &klaxonhttp.EnqueueRequest{Workflow: "greet", Input: json.RawMessage(`"` + name + `"`)})
		if err != nil {
			t.Fatal(err)
		}
		f.awaitStatus(enqueued.Run.ID, klaxontype.RunStatusCompleted)
	}
	f.deadEntry(operateSecret, nil)

	// The document has exactly the contract's fields.
	r := f.do(http.MethodGet, "/api/v1/stats", readSecret, "")
	if r.status != http.StatusOK || r.contentType != "application/json" {
		t.Fatalf("GET /api/v1/stats: %d %s %s", r.status, r.contentType, r.body)
	}
	var document map[string]json.RawMessage
	r.decode(t, &document)
	if keys := slices.Sorted(maps.Keys(document)); !slices.Equal(keys, []string{"buckets", "from", "now", "step_seconds", "to", "workflow"}) {
		t.Fatalf("stats fields %v", keys)
	}
	var now map[string]int
	if err := json.Unmarshal(document["now"], &now); err != nil || len(now) != 5 || now["waiting"] != 0 || now["pending"] != 0 {
		t.Fatalf("now = %v, %v; want every unfinished status, none of them with a run", now, err)
	}
	var buckets []map[string]json.RawMessage
	if err := json.Unmarshal(document["buckets"], &buckets); err != nil || len(buckets) != 24 {
		t.Fatalf("%d buckets, %v", len(buckets), err)
	}
	wantKeys := []string{
		"cost_per_run_usd", "cost_usd", "dlq_by_class", "input_tokens", "output_tokens", "retries", "retries_per_run",
		"runs_by_status", "runs_enqueued", "runs_finished", "runs_unknown_cost", "start", "tokens_per_run",
	}
	for _, bucket := range buckets {
		if keys := slices.Sorted(maps.Keys(bucket)); !slices.Equal(keys, wantKeys) {
			t.Fatalf("bucket fields %v; want %v", keys, wantKeys)
		}
		if string(bucket["runs_by_status"]) != `{"cancelled":0,"completed":0,"dead":0}` && string(bucket["runs_enqueued"]) == "0" &&
			string(bucket["runs_finished"]) == "0" {
			t.Fatalf("an empty bucket's runs_by_status is %s; want every terminal status at 0", bucket["runs_by_status"])
		}
	}

	// The typed client reads the same series: every run counted once, where
	// it was enqueued and where it ended.
	stats, err := f.client(readSecret).Stats(ctx, klaxon.StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.StepSeconds != 3600 || stats.Workflow != "" || stats.From.Unix()%3600 != 0 ||
		!stats.To.Before(stats.From.Add(24*time.Hour)) || stats.To.Before(stats.From.Add(23*time.Hour)) {
		t.Fatalf("stats from %s to %s, step %d, workflow %q", stats.From, stats.To, stats.StepSeconds, stats.Workflow)
	}
	total := sumBuckets(stats.Buckets)
	want := klaxontype.NewStatsBucket(time.Time{})
	want.RunsEnqueued, want.RunsFinished = 3, 3
	want.RunsByStatus[klaxontype.RunStatusCompleted] = 2
	want.RunsByStatus[klaxontype.RunStatusDead] = 1
	want.DLQByClass[klaxontype.ClassPermanent] = 1
	if !equalBuckets(total, want) {
		t.Fatalf("stats sum to %+v; want %+v", total, want)
	}

	// Of one workflow, in buckets of 10 minutes over 2 hours.
	stats, err = f.client(readSecret).Stats(ctx, klaxon.StatsQuery{Window: 2 * time.Hour, Step: 10 * time.Minute, Workflow: "charge"})
	if err != nil {
		t.Fatal(err)
	}
	total = sumBuckets(stats.Buckets)
	want = klaxontype.NewStatsBucket(time.Time{})
	want.RunsEnqueued, want.RunsFinished = 1, 1
	want.RunsByStatus[klaxontype.RunStatusDead] = 1
	want.DLQByClass[klaxontype.ClassPermanent] = 1
	if len(stats.Buckets) != 12 || stats.StepSeconds != 600 || stats.Workflow != "charge" || !equalBuckets(total, want) {
		t.Fatalf("charge's stats: %d buckets of %ds, workflow %q, summing to %+v", len(stats.Buckets), stats.StepSeconds, stats.Workflow, total)
	}
	// The raw query gives the same; a default step follows the window.
	r = f.do(http.MethodGet, "/api/v1/stats?window=1h&workflow=charge", readSecret, "")
	var raw klaxontype.Stats
	r.decode(t, &raw)
	if r.status != http.StatusOK || raw.StepSeconds != 180 || len(raw.Buckets) != 20 || raw.Workflow != "charge" {
		t.Fatalf("window=1h: %d, step %d, %d buckets", r.status, raw.StepSeconds, len(raw.Buckets))
	}
}

// sumBuckets adds up the counts of a series, its start left zero.
func sumBuckets(buckets []*klaxontype.StatsBucket) *klaxontype.StatsBucket {
	total := klaxontype.NewStatsBucket(time.Time{})
	for _, b := range buckets {
		total.RunsEnqueued += b.RunsEnqueued
		total.RunsFinished += b.RunsFinished
		total.RunsUnknownCost += b.RunsUnknownCost
		total.CostUSD += b.CostUSD
		total.InputTokens += b.InputTokens
		total.OutputTokens += b.OutputTokens
		total.Retries += b.Retries
		for status, n := range b.RunsByStatus {
			total.RunsByStatus[status] += n
		}
		for class, n := range b.DLQByClass {
			total.DLQByClass[class] += n
		}
	}
	total.SetRates()
	return total
}

func equalBuckets(a, b *klaxontype.StatsBucket) bool {
	return a.RunsEnqueued == b.RunsEnqueued && a.RunsFinished == b.RunsFinished && a.RunsUnknownCost == b.RunsUnknownCost &&
		a.CostUSD == b.CostUSD && a.InputTokens == b.InputTokens && a.OutputTokens == b.OutputTokens && a.Retries == b.Retries &&
		maps.Equal(a.RunsByStatus, b.RunsByStatus) && maps.Equal(a.DLQByClass, b.DLQByClass)
}
