package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/sqlite"
)

// openStore opens a SQLite store on a file, closed when the test ends.
func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// fastConfig polls often and retries at once, so the test does not wait.
func fastConfig() *klaxon.Config {
	return &klaxon.Config{Concurrency: 4, PollInterval: 10 * time.Millisecond, LeaseDuration: 5 * time.Second, ShutdownGrace: 2 * time.Second}
}

var fastRetry = klaxon.WithRetryPolicy(klaxontype.RetryPolicy{
	MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
})

// startClient starts a client working the workflows until the test ends.
func startClient(t *testing.T, st *sqlite.Store, config *klaxon.Config, workflows ...klaxon.Registrable) *klaxon.Client {
	t.Helper()
	client, err := klaxon.NewClient(st, config)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(workflows...); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})
	return client
}

// awaitRun waits for a run to end.
func awaitRun(t *testing.T, client *klaxon.Client, id string) *klaxontype.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run, err := client.AwaitRun(ctx, id)
	if run == nil || !run.Status.Terminal() {
		t.Fatalf("run %s did not end: %v", id, err)
	}
	return run
}

// call stands for a model call: tokens, and a price or none.
func call(ctx context.Context, in, out, cached int64, cost klaxontype.Cost) {
	klaxon.RecordSpend(ctx, klaxontype.Spend{
		Usage: klaxontype.TokenUsage{InputTokens: in, OutputTokens: out, CachedTokens: cached}, Cost: cost, ModelCalls: 1,
	})
}

// scrape fetches url over HTTP and parses Prometheus's text format.
func scrape(t *testing.T, url, token string) scraped {
	t.Helper()
	request, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		request.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse the scrape: %v\n%s", err, body)
	}
	return scraped{t: t, families: families}
}

// scraped is one scrape's metric families.
type scraped struct {
	t        *testing.T
	families map[string]*dto.MetricFamily
}

// metric finds the sample of a family with exactly these labels
// ("name=value" pairs), or nil.
func (s scraped) metric(name string, labels ...string) *dto.Metric {
	family := s.families[name]
	if family == nil {
		return nil
	}
	want := append([]string(nil), labels...)
	sort.Strings(want)
	for _, m := range family.Metric {
		var got []string
		for _, pair := range m.Label {
			got = append(got, pair.GetName()+"="+pair.GetValue())
		}
		sort.Strings(got)
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return m
		}
	}
	return nil
}

// value is a counter's or gauge's value; a missing sample fails the test.
func (s scraped) value(name string, labels ...string) float64 {
	s.t.Helper()
	m := s.metric(name, labels...)
	switch {
	case m == nil:
		s.t.Errorf("no sample %s{%s}", name, strings.Join(labels, ","))
		return math.NaN()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	s.t.Errorf("%s{%s} is neither counter nor gauge", name, strings.Join(labels, ","))
	return math.NaN()
}

// check compares a counter or gauge with want.
func (s scraped) check(want float64, name string, labels ...string) {
	s.t.Helper()
	if got := s.value(name, labels...); math.Abs(got-want) > 1e-9 {
		s.t.Errorf("%s{%s} = %v; want %v", name, strings.Join(labels, ","), got, want)
	}
}

// checkHistogram compares a histogram's count and sum.
func (s scraped) checkHistogram(count uint64, sum float64, name string, labels ...string) {
	s.t.Helper()
	m := s.metric(name, labels...)
	if m == nil || m.Histogram == nil {
		if count != 0 {
			s.t.Errorf("no histogram %s{%s}", name, strings.Join(labels, ","))
		}
		return
	}
	if m.Histogram.GetSampleCount() != count || math.Abs(m.Histogram.GetSampleSum()-sum) > 1e-9 {
		s.t.Errorf("%s{%s}: %d observations summing %v; want %d summing %v", name, strings.Join(labels, ","),
			m.Histogram.GetSampleCount(), m.Histogram.GetSampleSum(), count, sum)
	}
}

// After a scripted run — a retry, a dead run, a run that skipped an expected
// step, model calls of known and unknown price — the engine's and the store's
// metrics, scraped from the HTTP server's /metrics, say what happened.
func TestScrapeAfterScriptedRun(t *testing.T) {
	t.Parallel()
	st := openStore(t, filepath.Join(t.TempDir(), "klaxon.db"))
	registry := prometheus.NewRegistry()
	config := fastConfig()
	var ownHook atomic.Int32
	config.OnAttempt = func(*klaxontype.AttemptOutcome) { ownHook.Add(1) }
	if _, err := metrics.Instrument(config, registry); err != nil {
		t.Fatal(err)
	}
	registry.MustRegister(metrics.NewStoreCollector(st, 0))

	var drafts atomic.Int32
	summarize := klaxon.NewWorkflow("summarize", func(ctx context.Context, _ int) (string, error) {
		draft, err := klaxon.Step(ctx, "draft", func(ctx context.Context) (string, error) {
			call(ctx, 1000, 200, 50, klaxontype.KnownCost(0.01))
			if drafts.Add(1) == 1 {
				return "", errors.New("502 from the model gateway")
			}
			return "draft", nil
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "judge", func(ctx context.Context) (string, error) {
			call(ctx, 10, 5, 0, klaxontype.UnknownCost())
			return draft + " approved", nil
		})
	}, fastRetry)
	doomed := klaxon.NewWorkflow("doomed", func(ctx context.Context, _ int) (string, error) {
		return klaxon.Step(ctx, "extract", func(ctx context.Context) (string, error) {
			call(ctx, 300, 0, 0, klaxontype.KnownCost(0.5))
			return "", klaxon.Permanent(errors.New("400: the document is not a PDF"))
		})
	}, fastRetry)
	partial := klaxon.NewWorkflow("partial", func(ctx context.Context, _ int) (string, error) {
		return klaxon.Step(ctx, "fetch", func(context.Context) (string, error) { return "page", nil })
	}, klaxon.ExpectSteps("fetch", "index"), fastRetry)

	client := startClient(t, st, config, summarize, doomed, partial)
	ctx := context.Background()
	for _, enqueue := range []func() (string, error){
		func() (string, error) { r, err := summarize.Enqueue(ctx, client, 1); return r.Run.ID, err },
		func() (string, error) { r, err := doomed.Enqueue(ctx, client, 1); return r.Run.ID, err },
		func() (string, error) { r, err := partial.Enqueue(ctx, client, 1); return r.Run.ID, err },
	} {
		id, err := enqueue()
		if err != nil {
			t.Fatal(err)
		}
		awaitRun(t, client, id)
	}
	// A run is ended once that is durable; its worker calls the hooks right
	// after, so the last attempt's may still be on its way.
	for deadline := time.Now().Add(5 * time.Second); ownHook.Load() < 4 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}

	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Metrics: promhttp.HandlerFor(registry, promhttp.HandlerOpts{})})
	if err != nil {
		t.Fatal(err)
	}
	httpServer := httptest.NewServer(server.Handler())
	defer httpServer.Close()
	s := scrape(t, httpServer.URL+klaxonhttp.MetricsPath, "")

	// The engine's hooks: steps, attempts, spend.
	s.check(2, "klaxon_step_attempts_total", "workflow=summarize", "outcome=completed")
	s.check(1, "klaxon_step_attempts_total", "workflow=summarize", "outcome=failed")
	s.check(1, "klaxon_step_attempts_total", "workflow=doomed", "outcome=failed")
	s.checkHistogram(3, s.histogramSum("klaxon_step_duration_seconds", "workflow=summarize"), "klaxon_step_duration_seconds", "workflow=summarize")
	s.check(1, "klaxon_run_attempts_total", "workflow=summarize", "result=retrying")
	s.check(1, "klaxon_run_attempts_total", "workflow=summarize", "result=completed")
	s.check(1, "klaxon_run_attempt_failures_total", "workflow=summarize", "class=transient")
	s.check(1, "klaxon_run_attempt_failures_total", "workflow=doomed", "class=permanent")
	s.check(1, "klaxon_runs_finished_total", "workflow=summarize", "status=completed")
	s.check(1, "klaxon_runs_finished_total", "workflow=doomed", "status=dead")
	s.check(1, "klaxon_runs_finished_total", "workflow=partial", "status=dead")
	s.check(1, "klaxon_runs_manifest_incomplete_total", "workflow=partial")
	if m := s.metric("klaxon_runs_manifest_incomplete_total", "workflow=doomed"); m != nil {
		t.Errorf("a dead run with every step it ran counted as an incomplete manifest: %v", m)
	}
	// Both drafts were paid for, the failed one too; the judge's price is
	// unknown, so it is counted as a call of unknown cost, not as $0.
	s.check(3, "klaxon_model_calls_total", "workflow=summarize")
	s.check(2010, "klaxon_model_tokens_total", "workflow=summarize", "kind=input")
	s.check(405, "klaxon_model_tokens_total", "workflow=summarize", "kind=output")
	s.check(100, "klaxon_model_tokens_total", "workflow=summarize", "kind=cached")
	s.check(0.02, "klaxon_model_cost_usd_total", "workflow=summarize")
	s.check(1, "klaxon_model_calls_unknown_cost_total", "workflow=summarize")
	s.check(0.5, "klaxon_model_cost_usd_total", "workflow=doomed")
	// Per run, when it ends: its retries, tokens and cost.
	s.checkHistogram(1, 1, "klaxon_run_retries", "workflow=summarize")
	s.checkHistogram(1, 0, "klaxon_run_retries", "workflow=doomed")
	s.checkHistogram(1, 2415, "klaxon_run_tokens", "workflow=summarize")
	s.checkHistogram(0, 0, "klaxon_run_cost_usd", "workflow=summarize")
	s.check(1, "klaxon_runs_unknown_cost_total", "workflow=summarize")
	s.checkHistogram(1, 0.5, "klaxon_run_cost_usd", "workflow=doomed")

	// The store's counts.
	s.check(1, "klaxon_runs", "workflow=summarize", "status=completed")
	s.check(0, "klaxon_runs", "workflow=summarize", "status=dead")
	s.check(1, "klaxon_runs", "workflow=doomed", "status=dead")
	s.check(1, "klaxon_runs", "workflow=partial", "status=dead")
	s.check(1, "klaxon_dlq_entries_total", "workflow=doomed", "class=permanent")
	s.check(1, "klaxon_dlq_entries_open", "workflow=doomed", "class=permanent")
	s.check(1, "klaxon_dlq_entries_total", "workflow=partial", "class=partial_completion")
	s.check(0, "klaxon_dlq_entries_total", "workflow=summarize", "class=transient")
	s.check(0, "klaxon_breaker_open", "workflow=doomed")
	s.check(0, "klaxon_duplicates_suppressed_total", "workflow=summarize")
	// No channel handles the review route here: both notifications wait.
	s.check(2, "klaxon_outbox_pending")
	s.check(1, "klaxon_store_up")

	// The store's workflow totals say what the engine's hooks said, from
	// the database: what any worker did, instrumented or not.
	for _, name := range []string{"summarize", "doomed", "partial"} {
		s.check(1, "klaxon_workflow_runs_total", "workflow="+name)
	}
	s.check(2, "klaxon_workflow_run_attempts_total", "workflow=summarize")
	s.check(1, "klaxon_workflow_run_retries_total", "workflow=summarize")
	s.check(0, "klaxon_workflow_run_retries_total", "workflow=doomed")
	s.check(3, "klaxon_workflow_model_calls_total", "workflow=summarize")
	s.check(2010, "klaxon_workflow_model_tokens_total", "workflow=summarize", "kind=input")
	s.check(405, "klaxon_workflow_model_tokens_total", "workflow=summarize", "kind=output")
	s.check(100, "klaxon_workflow_model_tokens_total", "workflow=summarize", "kind=cached")
	s.check(0.02, "klaxon_workflow_model_cost_usd_total", "workflow=summarize")
	s.check(1, "klaxon_workflow_runs_unknown_cost_total", "workflow=summarize")
	s.check(0.5, "klaxon_workflow_model_cost_usd_total", "workflow=doomed")
	s.check(0, "klaxon_workflow_runs_unknown_cost_total", "workflow=doomed")
	s.check(1, "klaxon_workflow_runs_manifest_incomplete_total", "workflow=partial")
	s.check(0, "klaxon_workflow_runs_manifest_incomplete_total", "workflow=doomed")

	if ownHook.Load() != 4 {
		t.Errorf("the program's own OnAttempt hook saw %d attempts; want 4: Instrument must chain it", ownHook.Load())
	}
}

// histogramSum is a histogram's sum, for checks of the count alone.
func (s scraped) histogramSum(name string, labels ...string) float64 {
	if m := s.metric(name, labels...); m != nil && m.Histogram != nil {
		return m.Histogram.GetSampleSum()
	}
	return 0
}

// Two clients on one SQLite file stand for two worker processes: the store's
// metrics, scraped from a third, count the runs of both.
func TestStoreMetricsCountEveryProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	var workflows [2]*klaxon.Workflow[int, string]
	var clients [2]*klaxon.Client
	for i := range clients {
		name := fmt.Sprintf("worker-%d", i)
		workflows[i] = klaxon.NewWorkflow(name, func(ctx context.Context, n int) (string, error) {
			return klaxon.Step(ctx, "work", func(context.Context) (string, error) {
				if n < 0 {
					return "", klaxon.Semantic(errors.New("the summary is empty"))
				}
				return "done", nil
			})
		}, fastRetry)
		config := fastConfig()
		config.WorkerID = name
		clients[i] = startClient(t, openStore(t, path), config, workflows[i])
	}
	ctx := context.Background()
	for i, client := range clients {
		for _, n := range []int{1, 2, -1} {
			result, err := workflows[i].Enqueue(ctx, client, n)
			if err != nil {
				t.Fatal(err)
			}
			awaitRun(t, client, result.Run.ID)
		}
	}

	// The scraping process has a store of its own and no worker.
	registry := prometheus.NewRegistry()
	registry.MustRegister(metrics.NewStoreCollector(openStore(t, path), time.Millisecond))
	httpServer := httptest.NewServer(promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	defer httpServer.Close()
	s := scrape(t, httpServer.URL, "")
	for _, name := range []string{"worker-0", "worker-1"} {
		s.check(2, "klaxon_runs", "workflow="+name, "status=completed")
		s.check(1, "klaxon_runs", "workflow="+name, "status=dead")
		s.check(0, "klaxon_runs", "workflow="+name, "status=pending")
		s.check(1, "klaxon_dlq_entries_total", "workflow="+name, "class=semantic")
		s.check(1, "klaxon_dlq_entries_open", "workflow="+name, "class=semantic")
	}
	s.check(2, "klaxon_outbox_pending")
}
