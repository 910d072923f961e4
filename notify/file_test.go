package notify_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/notify"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// TestParse: a file with every target type loads, secrets and URLs from the
// environment, defaults where fields are left out.
func TestParse(t *testing.T) {
	t.Parallel()
	config, err := notify.Parse([]byte(`
dashboard_url: https://klaxon.example.com/
alert_after: 3
channels:
  review:
    - type: webhook
      url: https://hooks.example.com/klaxon
      secret_env: HOOK_SECRET
    - type: slack
      url_env: SLACK_URL
      timeout: 2s
  ops:
    - name: pager
      type: template
      url: https://events.example.com/enqueue
      template: |
        {"summary": {{json .Title}}, "details": {{json .Text}}, "link": {{json .URL}}}
`), env(map[string]string{"HOOK_SECRET": "s3cret", "SLACK_URL": "https://hooks.slack.com/services/T/B/X"}))
	if err != nil {
		t.Fatal(err)
	}
	if config.DashboardURL != "https://klaxon.example.com" || config.AlertAfter != 3 {
		t.Errorf("dashboard %q, alert after %d", config.DashboardURL, config.AlertAfter)
	}
	if got := strings.Join(config.ChannelNames(), ","); got != "review,ops" {
		t.Errorf("channels %s; want review,ops in the file's order", got)
	}
	review := config.Targets("review")
	if len(review) != 2 || string(review[0].Secret) != "s3cret" || review[0].Name != "webhook" || review[0].Timeout != notify.DefaultTimeout {
		t.Errorf("review's webhook = %+v", review[0])
	}
	if review[1].URL != "https://hooks.slack.com/services/T/B/X" || review[1].Timeout != 2*time.Second || review[1].Host() != "https://hooks.slack.com" {
		t.Errorf("review's slack = %+v", review[1])
	}
	if pager := config.Targets("ops")[0]; pager.Name != "pager" || pager.Template == nil || pager.String() != "ops/pager" {
		t.Errorf("ops' template = %+v", pager)
	}
}

// TestParseRefuses: every mistake is an error naming the channel, the
// target, the field and the line.
func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, want string
	}{
		{"empty", "", "the file is empty"},
		{"not yaml", "channels: [", "yaml"},
		{"no channels", "dashboard_url: https://x.example.com\n", `field "channels" is missing`},
		{"unknown top field", "chanels: {}\n", `the file: unknown field "chanels" (line 1)`},
		{"channel not a list", "channels:\n  ops: https://x.example.com\n", `channel "ops" (line 2): not a list of targets`},
		{"unknown type", "channels:\n  ops:\n    - type: pagerduty\n      url: https://x.example.com\n",
			`channel "ops", target 1 (line 3): field "type" (line 3): "pagerduty" is not one of webhook, slack, template`},
		{"no type", "channels:\n  ops:\n    - url: https://x.example.com\n", `channel "ops", target 1 (line 3): field "type" is missing`},
		{"missing url", "channels:\n  ops:\n    - type: slack\n", `channel "ops", target 1 (line 3): field "url" is missing`},
		{"bad url", "channels:\n  ops:\n    - type: slack\n      url: hooks.slack.com/x\n",
			`channel "ops", target 1 (line 3): field "url" (line 4): not an absolute http or https URL`},
		{"unset env", "channels:\n  ops:\n    - type: slack\n      url_env: NOPE\n",
			`field "url_env" (line 4): the environment variable NOPE is empty or unset`},
		{"unsigned webhook", "channels:\n  ops:\n    - type: webhook\n      url: https://x.example.com\n",
			`channel "ops", target 1 (line 3): field "secret" is missing`},
		{"secret on slack", "channels:\n  ops:\n    - type: slack\n      url: https://x.example.com\n      secret: x\n",
			`field "secret" (line 5) does not apply to a slack target`},
		{"unknown field", "channels:\n  ops:\n    - type: slack\n      url: https://x.example.com\n      colour: red\n",
			`channel "ops", target 1 (line 3): unknown field "colour" (line 5)`},
		{"bad timeout", "channels:\n  ops:\n    - type: slack\n      url: https://x.example.com\n      timeout: forever\n",
			`field "timeout" (line 5): "forever" is not a duration`},
		{"duplicate names", "channels:\n  ops:\n    - {type: slack, url: https://x.example.com}\n    - {type: slack, url: https://y.example.com}\n",
			`channel "ops": two targets named "slack" (lines 3 and 4)`},
		{"unknown alert channel", "alert_channels: [pager]\nchannels:\n  ops:\n    - {type: slack, url: https://x.example.com}\n",
			`field "alert_channels" (line 1): "pager" is not one of the file's channels (ops)`},
		{"bad alert_after", "alert_after: 0\nchannels:\n  ops:\n    - {type: slack, url: https://x.example.com}\n", `field "alert_after" (line 1)`},
		{"template syntax", "channels:\n  ops:\n    - type: template\n      url: https://x.example.com\n      template: '{\"a\": {{json .Text}'\n",
			`channel "ops", target 1 (line 3): field "template" (line 5): template`},
		{"template unknown field", "channels:\n  ops:\n    - type: template\n      url: https://x.example.com\n      template: '{\"a\": {{json .Colour}}}'\n",
			`field "template" (line 5): with a sample dead_letter notification`},
		{"template not json", "channels:\n  ops:\n    - type: template\n      url: https://x.example.com\n      template: '{\"a\": {{.Text}}}'\n",
			`field "template" (line 5): with a sample dead_letter notification: the body is not valid JSON`},
		{"template json for one kind only", "channels:\n  ops:\n    - type: template\n      url: https://x.example.com\n      template: '{\"a\": {{json .DeadLetter.ID}}}'\n",
			`with a sample breaker notification`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := notify.Parse([]byte(tc.file), env(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v; want an error with %q", err, tc.want)
			}
		})
	}
}

// TestTargetBodies: each type writes a body fit for its recipient from a
// sample of each kind: JSON everywhere, a readable text with a dashboard
// link for Slack, the record itself for a webhook.
func TestTargetBodies(t *testing.T) {
	t.Parallel()
	config, err := notify.Parse([]byte(`
dashboard_url: https://klaxon.example.com
channels:
  review:
    - {type: webhook, url: "https://h.example.com", secret: s}
    - {type: slack, url: "https://hooks.slack.com/services/x"}
    - type: template
      url: https://e.example.com
      template: '{"title": {{json .Title}}, "workflow": {{json .Workflow}}, "link": {{json .URL}}}'
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, sample := range notify.Samples() {
		n, err := notify.NotificationOf(sample, config.DashboardURL)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range config.Targets("review") {
			body, _, err := target.Body(n)
			if err != nil || !json.Valid(body) {
				t.Fatalf("%s body of a %s: %v %s", target.Type, sample.Kind, err, body)
			}
			var fields map[string]any
			_ = json.Unmarshal(body, &fields)
			switch target.Type {
			case notify.TargetSlack:
				text, _ := fields["text"].(string)
				if !strings.Contains(text, "summarize-document") || !strings.Contains(text, "|Open in the Klaxon dashboard>") {
					t.Errorf("slack text of a %s: %q", sample.Kind, text)
				}
			case notify.TargetTemplate:
				if fields["workflow"] != "summarize-document" || !strings.HasPrefix(fields["link"].(string), "https://klaxon.example.com/#/") {
					t.Errorf("template body of a %s: %s", sample.Kind, body)
				}
			case notify.TargetWebhook:
				if len(fields) < 3 {
					t.Errorf("webhook body of a %s: %s", sample.Kind, body)
				}
			}
		}
	}
}
