package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/webhook"
)

// TestChannelsCheck: a good file is described channel by channel, with what
// a dead letter looks like at each target and without the secret path of a
// Slack URL; a bad one is an error naming its channel, target, field and
// line, and exit code 1.
func TestChannelsCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writeFile(t, dir, "channels.yml", `
dashboard_url: https://klaxon.example.com
channels:
  review:
    - {type: webhook, url: "https://hooks.example.com/klaxon", secret_env: HOOK_SECRET}
    - {type: slack, url_env: SLACK_URL}
  security:
    - name: siem
      type: template
      url: https://siem.example.com/events
      template: '{"title": {{json .Title}}, "workflow": {{json .Workflow}}}'
`)
	env := map[string]string{"HOOK_SECRET": "s", "SLACK_URL": "https://hooks.slack.com/services/T000/B000/XXXX"}
	code, stdout, stderr := run(t, env, "channels", "check", good)
	for _, want := range []string{
		"2 channels, 3 targets",
		"channel review:",
		"webhook: webhook to https://hooks.example.com/…, timeout 10s, signed (Klaxon-Signature)",
		"slack: slack to https://hooks.slack.com/…",
		"Open in the Klaxon dashboard",
		`siem: template to https://siem.example.com/…, timeout 10s; a dead letter reads: {"title": "Dead letter: summarize-document (permanent)", "workflow": "summarize-document"}`,
	} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("channels check: exit %d, output lacks %q:\n%s%s", code, want, stdout, stderr)
		}
	}
	if strings.Contains(stdout, "XXXX") {
		t.Errorf("channels check printed the Slack URL's secret path:\n%s", stdout)
	}

	bad := writeFile(t, dir, "bad.yml", "channels:\n  review:\n    - type: slack\n      url: https://hooks.slack.com/x\n    - type: pagerduty\n      url: https://x.example.com\n")
	code, _, stderr = run(t, nil, "channels", "check", bad)
	if code != exitError || !strings.Contains(stderr, `channel "review", target 2 (line 5): field "type" (line 5): "pagerduty" is not one of webhook, slack, template`) {
		t.Errorf("channels check of a bad file: exit %d, %q", code, stderr)
	}
	code, _, stderr = run(t, nil, "channels", "check", good)
	if code != exitError || !strings.Contains(stderr, `the environment variable HOOK_SECRET is empty or unset`) {
		t.Errorf("channels check without the env: exit %d, %q", code, stderr)
	}
	code, _, stderr = run(t, nil, "channels", "chek", good)
	if code != exitUsage {
		t.Errorf("channels chek: exit %d, %q", code, stderr)
	}
}

// TestServerRefusesBadChannels: a channels file with a mistake stops the
// server with the error channels check gives, before the database is
// created.
func TestServerRefusesBadChannels(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "never.db")
	channels := writeFile(t, dir, "channels.yml", "channels:\n  ops:\n    - type: template\n      url: https://x.example.com\n      template: '{\"text\": {{.Text}}}'\n")
	code, _, stderr := run(t, nil, "server", "--db", db, "--channels", channels)
	want := `channel "ops", target 1 (line 3): field "template" (line 5): with a sample dead_letter notification: the body is not valid JSON`
	if code != exitError || !strings.Contains(stderr, want) {
		t.Errorf("server with a bad channels file: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was created: %v", err)
	}
}

// TestServerDeliversChannels: klaxon server --channels delivers the
// database's dead letters to the file's webhook, signed, each once, and the
// outbox is left empty.
func TestServerDeliversChannels(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	secret := "channels-secret"
	var mu sync.Mutex
	got := map[string]string{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var entry klaxontype.DeadLetter
		if !webhook.Verify([]byte(secret), body, r.Header.Get(webhook.SignatureHeader)) || json.Unmarshal(body, &entry) != nil {
			http.Error(w, "bad notification", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got[entry.ID] += entry.Channel
		mu.Unlock()
	}))
	defer receiver.Close()
	channels := writeFile(t, t.TempDir(), "channels.yml", `
channels:
  review:
    - {type: webhook, url: "`+receiver.URL+`", secret_env: HOOK_SECRET}
  security:
    - {type: webhook, url: "`+receiver.URL+`", secret_env: HOOK_SECRET}
`)
	_, stop := startServer(t, map[string]string{"HOOK_SECRET": secret}, "--db", db, "--addr", "127.0.0.1:0", "--channels", channels)
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == fixtureEntries {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook got %d of %d entries", n, fixtureEntries)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("server exit %d", code)
	}
	for id, channel := range got {
		if channel != "review" && channel != "security" {
			t.Errorf("entry %s arrived as %q; want once, on its channel", id, channel)
		}
	}
	code, out, stderr := run(t, nil, "outbox", "list", "--db", db)
	if code != exitOK || strings.Contains(out, "review") || strings.Contains(out, "security") {
		t.Errorf("outbox list after delivery: exit %d, %q %q", code, out, stderr)
	}
}

// TestDemoDeliversToItsSink: the demo's server delivers the demo's
// dead-letter notifications to its own sink, so none waits in the outbox
// "never tried" once the demo ends.
func TestDemoDeliversToItsSink(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	code, _, stderr := run(t, nil, "demo", "--db", db, "--runs", "12", "--seed", "7", "--addr", "127.0.0.1:0", "--exit-when-done",
		"--error-rate", "0.5")
	if code != exitOK {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.DLQList(context.Background(), &store.DLQListParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("the demo left no dead letters to deliver")
	}
	for _, listed := range entries {
		entry, err := st.DLQGet(context.Background(), listed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(entry.Deliveries) != 1 || entry.Deliveries[0].State != klaxontype.DeliveryDelivered {
			t.Errorf("entry %s on %s: deliveries %+v; want delivered to the demo's sink", entry.ID, entry.Channel, entry.Deliveries)
		}
	}
	pending, err := st.OutboxSummarize(context.Background())
	if err != nil || len(pending) != 0 {
		t.Errorf("outbox after the demo: %+v, %v; want nothing pending", pending, err)
	}
}

// TestServerAlertsOnAFailingTarget: a target that answers 500 to every
// attempt raises one alert, which klaxon alerts lists once however many
// attempts failed.
func TestServerAlertsOnAFailingTarget(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	var calls atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "the receiver is down", http.StatusInternalServerError)
	}))
	defer receiver.Close()
	channels := writeFile(t, t.TempDir(), "channels.yml", `
alert_after: 2
channels:
  review:
    - {name: hook, type: slack, url: "`+receiver.URL+`"}
`)
	_, stop := startServer(t, nil, "--db", db, "--addr", "127.0.0.1:0", "--channels", channels)
	defer stop()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, out, stderr := run(t, nil, "alerts", "--db", db)
		if code != exitOK {
			t.Fatalf("klaxon alerts: exit %d, %s", code, stderr)
		}
		if strings.Contains(out, "notification-target:review/hook") && calls.Load() > 4 {
			if n := strings.Count(out, "notification-target:review/hook"); n != 1 || !strings.Contains(out, "answered 500") {
				t.Fatalf("klaxon alerts after %d attempts lists the target's alert %d times; want once, with the error:\n%s", calls.Load(), n, out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d attempts klaxon alerts shows:\n%s", calls.Load(), out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServerAlertsToAChannel: an alert rule that notifies channel:ops has
// its notifications delivered to the targets the channels file gives ops;
// a rule notifying a channel the file does not list stops the server.
func TestServerAlertsToAChannel(t *testing.T) {
	t.Parallel()
	secret := "ops-secret"
	var mu sync.Mutex
	var events []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var n klaxontype.AlertNotification
		if !webhook.Verify([]byte(secret), body, r.Header.Get(webhook.SignatureHeader)) || json.Unmarshal(body, &n) != nil || n.Alert == nil {
			http.Error(w, "bad notification", http.StatusBadRequest)
			return
		}
		mu.Lock()
		events = append(events, r.Header.Get(webhook.EventHeader)+" "+n.Alert.Rule+" "+n.Alert.Workflow)
		mu.Unlock()
	}))
	defer receiver.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "alerts.db")
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.BreakerTrip(context.Background(), &store.BreakerTripParams{
		Workflow: "triage", Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: "worker-1",
	}); err != nil {
		t.Fatal(err)
	}
	rules := writeFile(t, dir, "rules.yml", "rules:\n  - {name: breaker, kind: breaker_open, notify: [\"channel:ops\"]}\n")
	channels := writeFile(t, dir, "channels.yml", `
channels:
  ops:
    - {type: webhook, url: "`+receiver.URL+`", secret: "`+secret+`"}
`)
	code, _, stderr := run(t, nil, "server", "--db", db, "--alert-rules", rules)
	if code != exitError || !strings.Contains(stderr, "the alert rules notify channel:ops, which only a --channels file delivers") {
		t.Errorf("server with rules notifying a channel and no channels file: exit %d, %q", code, stderr)
	}
	_, stop := startServer(t, nil, "--db", db, "--addr", "127.0.0.1:0", "--alert-rules", rules, "--alert-interval", "1s", "--channels", channels)
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		got := strings.Join(events, ", ")
		mu.Unlock()
		if got == "alert.firing breaker triage" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ops webhook got %q; want the breaker alert firing", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("server exit %d", code)
	}
}
