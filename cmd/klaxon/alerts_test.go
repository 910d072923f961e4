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
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/webhook"
)

// TestServerAlertsWebhook: klaxon server with a rules file announces an open
// breaker to the file's webhook, signed, and its resolution once a person
// resets the breaker; klaxon alerts lists it.
func TestServerAlertsWebhook(t *testing.T) {
	t.Parallel()
	secret := "alerts-webhook-secret"
	var mu sync.Mutex
	var events []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var n klaxontype.AlertNotification
		if !webhook.Verify([]byte(secret), body, r.Header.Get(webhook.SignatureHeader)) || json.Unmarshal(body, &n) != nil {
			http.Error(w, "bad notification", http.StatusBadRequest)
			return
		}
		mu.Lock()
		events = append(events, string(n.Event)+" "+n.Alert.Rule+" "+n.Alert.Workflow)
		mu.Unlock()
	}))
	defer receiver.Close()
	awaitEvents := func(want ...string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			got := strings.Join(events, ", ")
			mu.Unlock()
			if got == strings.Join(want, ", ") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the webhook got %q; want %q", got, strings.Join(want, ", "))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

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
	rules := writeFile(t, dir, "rules.yml", `
targets:
  - {name: hook, url: "`+receiver.URL+`", secret_env: HOOK_SECRET}
notify: [hook]
rules:
  - {name: breaker, kind: breaker_open, repeat: 1h}
`)
	_, stop := startServer(t, map[string]string{"HOOK_SECRET": secret},
		"--db", db, "--addr", "127.0.0.1:0", "--alert-rules", rules, "--alert-interval", "1s")
	awaitEvents("firing breaker triage")
	if err := st.BreakerReset(context.Background(), &store.BreakerResetParams{Workflow: "triage", Actor: "dave"}); err != nil {
		t.Fatal(err)
	}
	awaitEvents("firing breaker triage", "resolved breaker triage")
	if code := stop(); code != exitOK {
		t.Fatalf("server exit %d", code)
	}
	code, out, stderr := run(t, nil, "alerts", "--db", db, "--state", "resolved")
	if code != exitOK || !strings.Contains(out, "breaker") || !strings.Contains(out, "triage: breaker open") {
		t.Errorf("klaxon alerts --state resolved: exit %d, %q %q", code, out, stderr)
	}
}

// TestServerRefusesBadAlertRules: a rules file with a mistake stops the
// server before it opens the database, naming the rule and the field.
func TestServerRefusesBadAlertRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "never.db")
	rules := writeFile(t, dir, "rules.yml", "rules:\n  - name: spike\n    kind: dlq_spike\n    window: 1hour\n")
	code, _, stderr := run(t, nil, "server", "--db", db, "--alert-rules", rules)
	if code != exitError || !strings.Contains(stderr, `rule "spike": field "window" (line 4): "1hour" is not a positive duration`) {
		t.Errorf("server with a bad rules file: exit %d, %q", code, stderr)
	}
	code, _, stderr = run(t, nil, "alerts", "check", rules)
	if code != exitError || !strings.Contains(stderr, `rule "spike": field "window"`) {
		t.Errorf("alerts check of a bad rules file: exit %d, %q", code, stderr)
	}
	code, _, stderr = run(t, nil, "server", "--db", db, "--alert-interval", "10ms")
	if code != exitUsage || !strings.Contains(stderr, "--alert-interval 10ms") {
		t.Errorf("server with a 10ms interval: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was created: %v", err)
	}
	code, _, stderr = run(t, nil, "alerts", "--db", db, "--state", "open")
	if code != exitUsage || !strings.Contains(stderr, `--state "open"`) {
		t.Errorf("alerts --state open: exit %d, %q", code, stderr)
	}
}
