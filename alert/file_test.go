package alert_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// exampleRules is the example of docs/alerts.md.
const exampleRules = `
targets:
  - name: ops-slack
    url: https://hooks.slack.com/services/T000/B000/XXXX
    format: slack
  - name: pager
    url: https://alerts.example.com/klaxon
    format: json
    secret_env: KLAXON_ALERT_SECRET
notify: [ops-slack]
repeat: 2h
builtin: true
rules:
  - name: pipeline-context-overflow
    kind: dlq_spike
    workflow: pipeline
    class: context_overflow
    window: 1h
    baseline: 24h
    factor: 5
    min_count: 3
    severity: critical
    repeat: 30m
    notify: [ops-slack, pager]
  - name: any-dead-letters
    kind: dlq_rate
    threshold: 20
  - name: no-worker-fast
    kind: no_live_worker
    after: 2m
`

func TestParseExample(t *testing.T) {
	t.Parallel()
	config, err := alert.Parse([]byte(exampleRules), func(name string) string {
		if name == "KLAXON_ALERT_SECRET" {
			return "s3cret-from-the-environment"
		}
		return ""
	})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(config.Rules) != 3+len(alert.Defaults()) || len(config.Targets) != 2 {
		t.Fatalf("parsed %d rules and %d targets; want 3 and the built-in ones, 2 targets", len(config.Rules), len(config.Targets))
	}
	spike := config.Rule("pipeline-context-overflow")
	if spike.Kind != klaxontype.AlertDLQSpike || spike.Workflow != "pipeline" || spike.Class != klaxontype.ClassContextOverflow ||
		spike.Window != time.Hour || spike.Baseline != 24*time.Hour || spike.Factor != 5 || spike.MinCount != 3 ||
		spike.Severity != klaxontype.SeverityCritical || spike.Repeat != 30*time.Minute || strings.Join(spike.Notify, ",") != "ops-slack,pager" {
		t.Errorf("spike rule %+v", spike)
	}
	rate := config.Rule("any-dead-letters")
	if rate.Threshold != 20 || rate.Window != time.Hour || rate.Repeat != 2*time.Hour || strings.Join(rate.Notify, ",") != "ops-slack" ||
		rate.Severity != klaxontype.SeverityWarning {
		t.Errorf("rate rule %+v; want the file's repeat and notify, the kind's window", rate)
	}
	if r := config.Rule("no-worker-fast"); r.After != 2*time.Minute || r.Severity != klaxontype.SeverityCritical {
		t.Errorf("no-worker rule %+v", r)
	}
	if r := config.Rule("stuck-runs"); r == nil || r.Repeat != 2*time.Hour || strings.Join(r.Notify, ",") != "ops-slack" {
		t.Errorf("built-in stuck-runs %+v; want it notifying the file's targets", r)
	}
	if pager := config.Target("pager"); string(pager.Secret) != "s3cret-from-the-environment" || pager.Format != alert.FormatJSON {
		t.Errorf("pager target %+v", pager)
	}
	if got := spike.String(); got != "pipeline-context-overflow: dlq_spike of workflow pipeline, class context_overflow, "+
		"5x the trailing 24h rate over 1h, at least 3 dead letters; critical, repeat every 30m, notify ops-slack, pager" {
		t.Errorf("String() = %q", got)
	}
	// The docs show the same example.
	docs, err := os.ReadFile(filepath.Join("..", "docs", "alerts.md"))
	if err != nil {
		t.Fatalf("read docs: %v", err)
	}
	if !strings.Contains(string(docs), strings.TrimSpace(exampleRules)) {
		t.Errorf("docs/alerts.md does not hold the example rules file of this test")
	}
}

func TestParseRefusesBadFiles(t *testing.T) {
	t.Parallel()
	target := "targets:\n  - {name: ops, url: 'https://example.com/hook'}\n"
	for _, tc := range []struct {
		name, file, want string
	}{
		{"unknown top-level field", "rule: []\n", `the file: unknown field "rule" (line 1)`},
		{"unknown rule field", "rules:\n  - name: a\n    kind: dlq_rate\n    threshhold: 3\n", `rule "a": unknown field "threshhold" (line 4)`},
		{"field of another kind", "rules:\n  - name: a\n    kind: breaker_open\n    window: 1h\n", `rule "a": field "window" (line 4) does not apply to kind breaker_open`},
		{"bad duration", "rules:\n  - name: a\n    kind: dlq_rate\n    window: 1hour\n", `rule "a": field "window" (line 4): "1hour" is not a positive duration`},
		{"empty channel", "rules:\n  - name: a\n    kind: breaker_open\n    notify: [\"channel:\"]\n", `rule "a": field "notify": "channel:" names no channel of a channels file`},
		{"negative duration", "rules:\n  - name: a\n    kind: no_live_worker\n    after: -5m\n", `rule "a": field "after" (line 4): "-5m" is not a positive duration`},
		{"threshold not a number", "rules:\n  - name: a\n    kind: dlq_rate\n    threshold: many\n", `rule "a": field "threshold" (line 4): "many" is not a number`},
		{"zero threshold", "rules:\n  - name: a\n    kind: dlq_rate\n    threshold: 0\n", `rule "a": field "threshold" (line 4): 0 is not above zero`},
		{"fractional count", "rules:\n  - name: a\n    kind: dlq_spike\n    min_count: 2.5\n", `rule "a": field "min_count" (line 4): 2.5 is not a whole number`},
		{"factor of one", "rules:\n  - name: a\n    kind: spend_spike\n    factor: 1\n", `rule "a": field "factor": 1 is not above 1`},
		{"baseline shorter than window", "rules:\n  - name: a\n    kind: dlq_spike\n    window: 2h\n    baseline: 1h\n", `rule "a": field "baseline": 1h0m0s is not longer than the window 2h0m0s`},
		{"unknown kind", "rules:\n  - name: a\n    kind: dlq_sipke\n", `rule "a": field "kind" (line 3): "dlq_sipke" is not one of dlq_rate`},
		{"unknown class", "rules:\n  - name: a\n    kind: dlq_rate\n    class: overflow\n", `rule "a": field "class": "overflow" is not a failure class`},
		{"bad severity", "rules:\n  - name: a\n    kind: breaker_open\n    severity: high\n", `rule "a": field "severity" (line 4): "high" is not warning or critical`},
		{"missing kind", "rules:\n  - name: a\n", `rule "a": field "kind" is missing`},
		{"missing name", "rules:\n  - kind: breaker_open\n", `rule 1 (line 2): field "name" is missing`},
		{"twice", "rules:\n  - {name: a, kind: breaker_open}\n  - {name: a, kind: breaker_open}\n", `rule "a": defined twice`},
		{"unknown target", target + "rules:\n  - {name: a, kind: breaker_open, notify: [pager]}\n", `rule "a": field "notify": no target named "pager"`},
		{"target without url", "targets:\n  - {name: ops}\nrules:\n  - {name: a, kind: breaker_open}\n", `target "ops": field "url" is missing`},
		{"target bad url", "targets:\n  - {name: ops, url: 'hooks.example.com'}\nrules:\n  - {name: a, kind: breaker_open}\n", `target "ops": field "url": "hooks.example.com" is not an absolute http or https URL`},
		{"target bad format", "targets:\n  - {name: ops, url: 'https://example.com', format: teams}\nrules:\n  - {name: a, kind: breaker_open}\n", `target "ops": field "format": "teams" is not json or slack`},
		{"unset secret env", "targets:\n  - {name: ops, url: 'https://example.com', secret_env: NOPE}\nrules:\n  - {name: a, kind: breaker_open}\n", `target "ops": field "secret_env": the environment variable NOPE is empty or unset`},
		{"short repeat", "rules:\n  - {name: a, kind: breaker_open, repeat: 10s}\n", `rule "a": field "repeat": 10s is shorter than a minute`},
		{"no rules", "targets: []\n", "the file has no rules"},
		{"empty", "", "the file is empty"},
		{"not yaml", "rules: [\n", "yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := alert.Parse([]byte(tc.file), func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error %v; want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDefaultsAreValid(t *testing.T) {
	t.Parallel()
	config := alert.DefaultConfig()
	if err := config.Validate(); err != nil {
		t.Fatalf("the built-in rules are invalid: %v", err)
	}
	kinds := map[klaxontype.AlertKind]bool{}
	for _, r := range config.Rules {
		kinds[r.Kind] = true
	}
	for _, kind := range klaxontype.AlertKinds() {
		if !kinds[kind] && kind != klaxontype.AlertDLQRate && kind != klaxontype.AlertNotificationFailing {
			t.Errorf("no built-in rule of kind %s", kind)
		}
	}
}

// TestSlackTarget: a Slack target receives a message with text and blocks,
// unsigned.
func TestSlackTarget(t *testing.T) {
	t.Parallel()
	h := newHarness(t, builtin(t, "breaker-open"))
	slack := newReceiver(t)
	h.config.Targets = append(h.config.Targets, &alert.Target{Name: "slack", URL: slack.server.URL, Format: alert.FormatSlack})
	h.config.Rules[0].Notify = []string{"slack"}
	h.register("pipeline")
	run := h.enqueue("pipeline")
	if _, err := h.store.BreakerTrip(h.ctx, &store.BreakerTripParams{Workflow: "pipeline", Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: "engine", RunID: run.ID}); err != nil {
		t.Fatalf("BreakerTrip: %v", err)
	}
	h.at(time.Now())
	got := slack.take()
	if len(got) != 1 {
		t.Fatalf("slack got %d messages; want 1", len(got))
	}
	var message struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type     string                  `json:"type"`
			Text     *struct{ Text string }  `json:"text"`
			Elements []struct{ Text string } `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(got[0].Body, &message); err != nil {
		t.Fatalf("slack body %s: %v", got[0].Body, err)
	}
	if !strings.HasPrefix(message.Text, ":rotating_light: [FIRING] breaker-open (critical): pipeline: breaker open") ||
		len(message.Blocks) != 2 || message.Blocks[0].Type != "section" || message.Blocks[1].Type != "context" ||
		!strings.Contains(message.Blocks[0].Text.Text, "retry storm") {
		t.Errorf("slack message %s", got[0].Body)
	}
	if got[0].Signed || got[0].Event != "alert.firing" {
		t.Errorf("slack request signed %v, event %q; want unsigned alert.firing", got[0].Signed, got[0].Event)
	}
}
