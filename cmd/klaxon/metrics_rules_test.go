package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// After a scripted set of runs worked by a Go program that exports no
// metrics of its own, `klaxon server` alone serves every series, label and
// label value that docs/prometheus-rules.yml reads, so that none of its rules
// is silently blind for a user of the binary.
func TestServerServesEveryRuleSeries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "rules.db")
	url, stop := startServer(t, nil, "--db", db, "--addr", "127.0.0.1:0")
	defer stop()

	st, err := sqlite.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	retry := klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	var drafts atomic.Int32
	summarize := klaxon.NewWorkflow("summarize", func(ctx context.Context, _ int) (string, error) {
		draft, err := klaxon.Step(ctx, "draft", func(ctx context.Context) (string, error) {
			klaxon.RecordSpend(ctx, klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 1000, OutputTokens: 200, CachedTokens: 50},
				Cost: klaxontype.KnownCost(0.01), ModelCalls: 1})
			if drafts.Add(1) == 1 {
				return "", errors.New("502 from the model gateway")
			}
			return "draft", nil
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "judge", func(ctx context.Context) (string, error) {
			klaxon.RecordSpend(ctx, klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 10}, Cost: klaxontype.UnknownCost(), ModelCalls: 1})
			return draft + " approved", nil
		})
	}, retry)
	partial := klaxon.NewWorkflow("partial", func(ctx context.Context, _ int) (string, error) {
		return klaxon.Step(ctx, "fetch", func(context.Context) (string, error) { return "page", nil })
	}, klaxon.ExpectSteps("fetch", "index"), retry)
	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(summarize, partial); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	for _, enqueue := range []func() (*klaxon.EnqueueResult, error){
		func() (*klaxon.EnqueueResult, error) { return summarize.Enqueue(ctx, client, 1) },
		func() (*klaxon.EnqueueResult, error) { return partial.Enqueue(ctx, client, 1) },
	} {
		result, err := enqueue()
		if err != nil {
			t.Fatal(err)
		}
		awaitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		run, err := client.AwaitRun(awaitCtx, result.Run.ID)
		cancel()
		if run == nil || !run.Status.Terminal() {
			t.Fatalf("run %s did not end: %v", result.Run.ID, err)
		}
	}

	families := scrapeMetrics(t, url+klaxonhttp.MetricsPath)
	// The scripted runs are in the workflow totals, read from the database:
	// the worker's program exported nothing.
	for _, want := range []struct {
		name, workflow string
		labels         map[string]string
		value          float64
	}{
		{"klaxon_workflow_runs_total", "summarize", nil, 1},
		{"klaxon_workflow_run_attempts_total", "summarize", nil, 2},
		{"klaxon_workflow_run_retries_total", "summarize", nil, 1},
		{"klaxon_workflow_model_cost_usd_total", "summarize", nil, 0.02},
		{"klaxon_workflow_model_tokens_total", "summarize", map[string]string{"kind": "input"}, 2010},
		{"klaxon_workflow_model_calls_total", "summarize", nil, 3},
		{"klaxon_workflow_runs_unknown_cost_total", "summarize", nil, 1},
		{"klaxon_workflow_runs_manifest_incomplete_total", "partial", nil, 1},
	} {
		labels := map[string]string{"workflow": want.workflow}
		for k, v := range want.labels {
			labels[k] = v
		}
		if got, ok := sampleValue(families, want.name, labels); !ok || got != want.value {
			t.Errorf("%s%v = %v (found %v); want %v", want.name, labels, got, ok, want.value)
		}
	}

	rules := readRules(t, filepath.Join("..", "..", "docs", "prometheus-rules.yml"))
	if len(rules) < 10 {
		t.Fatalf("read %d rules from docs/prometheus-rules.yml", len(rules))
	}
	for _, rule := range rules {
		grouping := map[string]bool{}
		for _, clause := range byClause.FindAllStringSubmatch(rule.Expr, -1) {
			for _, label := range strings.Split(clause[1], ",") {
				if label = strings.TrimSpace(label); label != "" && label != "instance" && label != "le" {
					grouping[label] = true
				}
			}
		}
		for _, selector := range seriesSelector.FindAllStringSubmatch(rule.Expr, -1) {
			name := selector[1]
			family := families[name]
			if family == nil || len(family.GetMetric()) == 0 {
				t.Errorf("%s: %s is not on the server's /metrics", rule.Alert, name)
				continue
			}
			for label := range grouping {
				if !hasLabel(family, label, "") {
					t.Errorf("%s: %s has no label %q to aggregate by", rule.Alert, name, label)
				}
			}
			for _, matcher := range labelMatcher.FindAllStringSubmatch(selector[2], -1) {
				value := ""
				if matcher[2] == "=" {
					value = matcher[3]
				}
				if !hasLabel(family, matcher[1], value) {
					t.Errorf("%s: %s has no series with %s%s%q", rule.Alert, name, matcher[1], matcher[2], matcher[3])
				}
			}
		}
	}
}

var (
	// seriesSelector finds a Klaxon series in a PromQL expression, with its
	// label matchers if any: every Klaxon series starts with klaxon_.
	seriesSelector = regexp.MustCompile(`\b(klaxon_[a-z_]+)\b(\{[^}]*\})?`)
	labelMatcher   = regexp.MustCompile(`(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	byClause       = regexp.MustCompile(`\b(?:by|on)\s*\(([^)]*)\)`)
)

// alertRule is what the test reads of a Prometheus alerting rule.
type alertRule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
}

// readRules reads the alerting rules of a Prometheus rules file.
func readRules(t *testing.T, path string) []alertRule {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rules []alertRule
	for _, group := range file.Groups {
		rules = append(rules, group.Rules...)
	}
	return rules
}

// scrapeMetrics fetches a /metrics page and parses its text format.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// A histogram's series are read by rules as _bucket, _sum and _count.
	for name, family := range families {
		if family.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				families[name+suffix] = family
			}
		}
	}
	return families
}

// hasLabel reports whether a series of family has label, with value unless
// value is empty.
func hasLabel(family *dto.MetricFamily, label, value string) bool {
	if label == "le" && family.GetType() == dto.MetricType_HISTOGRAM {
		return true
	}
	for _, m := range family.GetMetric() {
		for _, pair := range m.GetLabel() {
			if pair.GetName() == label && (value == "" || pair.GetValue() == value) {
				return true
			}
		}
	}
	return false
}

// sampleValue returns the value of the series of name with exactly labels.
func sampleValue(families map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	family := families[name]
	if family == nil {
		return 0, false
	}
	for _, m := range family.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, pair := range m.GetLabel() {
			if labels[pair.GetName()] != pair.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}
