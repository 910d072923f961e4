package promrules

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/sqlite"
)

const rulesFile = "../prometheus-rules.yml"

// parseRules reads the rules file with Prometheus's own rule parser, strict
// about unknown fields, as `promtool check rules` does.
func parseRules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	return groups
}

func TestRulesParse(t *testing.T) {
	groups := parseRules(t)
	alerts := 0
	for _, group := range groups.Groups {
		for _, rule := range group.Rules {
			if rule.Alert == "" {
				t.Errorf("group %s: a rule without an alert name; this file holds alerting rules only", group.Name)
			}
			if rule.Labels["severity"] == "" {
				t.Errorf("%s: no severity label", rule.Alert)
			}
			if rule.Annotations["summary"] == "" {
				t.Errorf("%s: no summary annotation", rule.Alert)
			}
			alerts++
		}
	}
	if alerts < 10 {
		t.Errorf("%d alerting rules; the file should cover dead letters, spend, breakers and stuck work", alerts)
	}
}

// TestRulesNameExportedMetrics checks every selector of every rule against
// what Klaxon's metrics package exports: a renamed metric or label would
// otherwise leave a rule that silently never fires.
func TestRulesNameExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	for _, group := range parseRules(t).Groups {
		for _, rule := range group.Rules {
			expr, err := parser.NewParser(parser.Options{}).ParseExpr(rule.Expr)
			if err != nil {
				t.Fatalf("%s: %v", rule.Alert, err)
			}
			for _, selector := range parser.ExtractSelectors(expr) {
				name := ""
				for _, m := range selector {
					if m.Name == model.MetricNameLabel {
						name = m.Value
					}
				}
				labels, ok := exported[name]
				if !ok {
					t.Errorf("%s: metric %q is not exported by Klaxon", rule.Alert, name)
					continue
				}
				for _, m := range selector {
					if m.Name != model.MetricNameLabel && !labels[m.Name] {
						t.Errorf("%s: metric %s has no label %q", rule.Alert, name, m.Name)
					}
				}
			}
		}
	}
}

// exportedMetrics gathers the metrics of a worker that saw every kind of
// outcome and of a store with a registered workflow, and returns each series
// name (histograms as _bucket, _sum and _count) with its label names.
func exportedMetrics(t *testing.T) map[string]map[string]bool {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	registry := prometheus.NewRegistry()
	config := &klaxon.Config{PollInterval: time.Hour}
	engine, err := metrics.Instrument(config, registry)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.Register(metrics.NewStoreCollector(st, 0)); err != nil {
		t.Fatal(err)
	}
	// Starting a client records its workflow in the store, which is what the
	// store collector reports on.
	client, err := klaxon.NewClient(st, config)
	if err != nil {
		t.Fatal(err)
	}
	noop := klaxon.NewWorkflow("noop", func(context.Context, struct{}) (struct{}, error) { return struct{}{}, nil })
	if err := client.Register(noop); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := client.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// Every hook with every kind of outcome, so each vector has a series.
	engine.OnStep(&klaxontype.StepOutcome{Workflow: "noop", Name: "a"})
	engine.OnStep(&klaxontype.StepOutcome{Workflow: "noop", Name: "a", Replayed: true})
	engine.OnSpend(&klaxontype.SpendOutcome{Workflow: "noop", Spend: klaxontype.Spend{Cost: klaxontype.Cost{USD: 0.01}}})
	engine.OnSpend(&klaxontype.SpendOutcome{Workflow: "noop", Spend: klaxontype.Spend{Cost: klaxontype.Cost{Unknown: true}}})
	engine.OnAttempt(&klaxontype.AttemptOutcome{Workflow: "noop", Result: klaxontype.AttemptCompleted})
	engine.OnAttempt(&klaxontype.AttemptOutcome{Workflow: "noop", Result: klaxontype.AttemptDead,
		Class: klaxontype.ClassPartialCompletion, Err: errors.New("missing steps"), Spend: klaxontype.Spend{Cost: klaxontype.Cost{Unknown: true}}})

	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := make(map[string]map[string]bool)
	add := func(name string, metric *dto.Metric, extra ...string) {
		if exported[name] == nil {
			exported[name] = make(map[string]bool)
		}
		for _, pair := range metric.GetLabel() {
			exported[name][pair.GetName()] = true
		}
		for _, label := range extra {
			exported[name][label] = true
		}
	}
	for _, family := range families {
		for _, metric := range family.GetMetric() {
			if family.GetType() == dto.MetricType_HISTOGRAM {
				add(family.GetName()+"_bucket", metric, "le")
				add(family.GetName()+"_sum", metric)
				add(family.GetName()+"_count", metric)
				continue
			}
			add(family.GetName(), metric)
		}
	}
	names := make([]string, 0, len(exported))
	for name := range exported {
		names = append(names, name)
	}
	sort.Strings(names)
	t.Logf("exported: %s", strings.Join(names, " "))
	return exported
}
