package http_test

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// TestAlerts: GET /api/v1/alerts lists the firing alerts and those resolved
// in the last day, newest first, in the shape the dashboard reads.
func TestAlerts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	fire := func(rule string, started time.Time, runIDs []string) *klaxontype.Alert {
		t.Helper()
		alert, fired, err := f.store.AlertFire(ctx, &store.AlertFireParams{
			ID: ulid.Make().String(), Rule: rule, Kind: klaxontype.AlertDLQSpike, Workflow: "pipeline",
			Class: klaxontype.ClassContextOverflow, Severity: klaxontype.SeverityWarning,
			Summary: "pipeline: 12 context_overflow dead letters in the last 1h, 6.0x the trailing 24h rate",
			Value:   12, Threshold: 5, RunIDs: runIDs, At: started,
		})
		if err != nil || !fired {
			t.Fatalf("AlertFire: %v, %v", fired, err)
		}
		return alert
	}
	resolve := func(a *klaxontype.Alert, at time.Time) {
		t.Helper()
		if _, _, err := f.store.AlertResolve(ctx, &store.AlertResolveParams{ID: a.ID, At: at}); err != nil {
			t.Fatalf("AlertResolve: %v", err)
		}
	}
	firing := fire("dlq-spike", now.Add(-2*time.Hour), []string{"01JDQ7YV0Q3N5R6S7T8U9V0W1X"})
	recent := fire("spike-2", now.Add(-3*time.Hour), nil)
	resolve(recent, now.Add(-time.Hour))
	old := fire("spike-3", now.Add(-50*time.Hour), nil)
	resolve(old, now.Add(-30*time.Hour))

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{firing.ID, recent.ID}},
		{"?state=all", []string{firing.ID, recent.ID}},
		{"?state=firing", []string{firing.ID}},
		{"?state=resolved", []string{recent.ID}},
	} {
		r := f.do(http.MethodGet, "/api/v1/alerts"+c.query, readSecret, "")
		var list klaxonhttp.AlertList
		r.decode(t, &list)
		var got []string
		for _, a := range list.Alerts {
			got = append(got, a.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("GET /api/v1/alerts%s = %v; want %v", c.query, got, c.want)
		}
	}

	// The exact shape: every field of the contract, nulls included.
	r := f.do(http.MethodGet, "/api/v1/alerts?state=firing", readSecret, "")
	var raw struct {
		Alerts []map[string]any `json:"alerts"`
	}
	r.decode(t, &raw)
	if len(raw.Alerts) != 1 {
		t.Fatalf("firing alerts: %s", r.body)
	}
	var keys []string
	for key := range raw.Alerts[0] {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	want := []string{"class", "evaluated_at", "id", "kind", "last_notified_at", "notifications", "resolved_at", "rule", "run_ids", "severity",
		"started_at", "state", "summary", "threshold", "value", "workflow"}
	if !slices.Equal(keys, want) {
		t.Errorf("alert fields %v; want %v", keys, want)
	}
	a := raw.Alerts[0]
	if a["resolved_at"] != nil || a["started_at"] != now.Add(-2*time.Hour).Format(time.RFC3339) || a["state"] != "firing" ||
		a["kind"] != "dlq_spike" || a["value"] != 12.0 || a["threshold"] != 5.0 || a["notifications"] != 1.0 {
		t.Errorf("alert %s", r.body)
	}
	r = f.do(http.MethodGet, "/api/v1/alerts?state=resolved", readSecret, "")
	r.decode(t, &raw)
	if ids, ok := raw.Alerts[0]["run_ids"].([]any); !ok || len(ids) != 0 || raw.Alerts[0]["resolved_at"] == nil {
		t.Errorf("resolved alert %s; want run_ids [] and resolved_at set", r.body)
	}

	// The typed client reads the same.
	alerts, err := f.client(readSecret).Alerts(ctx, klaxonhttp.AlertsFiring)
	if err != nil || len(alerts) != 1 || alerts[0].ID != firing.ID || alerts[0].ResolvedAt != nil ||
		!slices.Equal(alerts[0].RunIDs, firing.RunIDs) {
		t.Errorf("client Alerts = %+v, %v; want the firing alert", alerts, err)
	}

	f.do(http.MethodGet, "/api/v1/alerts?state=open", readSecret, "").wantProblem(t, http.StatusUnprocessableEntity, "query.state", "open", "firing")
	f.do(http.MethodGet, "/api/v1/alerts", "", "").wantProblem(t, http.StatusUnauthorized)
}
