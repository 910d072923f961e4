package main

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
)

func TestFormatCompletion(t *testing.T) {
	t.Parallel()
	steps := func(attempts ...int) []klaxontype.StepAttempts {
		var list []klaxontype.StepAttempts
		for i, n := range attempts {
			list = append(list, klaxontype.StepAttempts{Seq: i + 1, Attempts: n, Completed: true})
		}
		return list
	}
	five := []string{"a", "b", "c", "d", "e"}
	for _, c := range []struct {
		record *klaxontype.CompletionRecord
		want   string
	}{
		{&klaxontype.CompletionRecord{
			Status:   klaxontype.RunStatusCompleted,
			Manifest: klaxontype.StepManifest{Expected: five, Executed: five, Missing: []string{}},
			Steps:    steps(1, 2, 1, 2, 1), Attempts: 3, Retries: 2,
			Spend:    klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 1000, OutputTokens: 234}, Cost: klaxontype.KnownCost(0.0012)},
			Duration: 3210 * time.Millisecond,
		}, "5/5 expected steps, 7 attempts (2 retries), 1,234 tokens, $0.0012, 3.2s"},
		{&klaxontype.CompletionRecord{
			Status: klaxontype.RunStatusDead, FailureClass: klaxontype.ClassPermanent,
			Manifest: klaxontype.StepManifest{Expected: []string{"fetch", "decide", "save"}, Executed: []string{"fetch"}, Missing: []string{"decide", "save"}},
			Steps:    steps(1, 1), Attempts: 1,
			Spend:    klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 1234567}, Cost: klaxontype.UnknownCost()},
			Duration: 850 * time.Millisecond,
		}, "dead (permanent), 1/3 expected steps (missing decide, save), 2 attempts (0 retries), 1,234,567 tokens, unknown cost, 850ms"},
		{&klaxontype.CompletionRecord{
			Status:   klaxontype.RunStatusCompleted,
			Manifest: klaxontype.StepManifest{Expected: []string{}, Executed: []string{"call"}, Missing: []string{}},
			Attempts: 2, Retries: 1, Spend: klaxontype.Spend{Cost: klaxontype.KnownCost(0.000034)},
			Duration: 95 * time.Second,
		}, "1 steps (none expected), 2 run attempts (1 retry), 0 tokens, $0.000034, 1m35s"},
		{&klaxontype.CompletionRecord{
			Status: klaxontype.RunStatusCancelled, FailureClass: klaxontype.ClassCancelled,
			Manifest: klaxontype.StepManifest{Expected: []string{"fetch", "decide"}, Executed: []string{}, Missing: []string{"fetch", "decide"}},
			Steps:    []klaxontype.StepAttempts{}, Duration: 2 * time.Hour,
		}, "cancelled, 0/2 expected steps (missing fetch, decide), 0 attempts (0 retries), 0 tokens, $0.0000, 2h0m0s"},
	} {
		if got := formatCompletion(c.record); got != c.want {
			t.Errorf("formatCompletion:\n got %s\nwant %s", got, c.want)
		}
	}
}

// runs show prints the completion record of a dead run's run.dead event, on
// one line and in --json.
func TestRunsShowPrintsCompletion(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	entry := listEntries(t, db, "--class", "permanent")[0]
	code, stdout, stderr := run(t, nil, "runs", "show", "--db", db, entry.RunID)
	if code != exitOK {
		t.Fatalf("runs show: exit %d: %s", code, stderr)
	}
	want := "completion: dead (permanent), 1/2 expected steps (missing decide), 2 attempts (0 retries), 0 tokens, $0.0000, "
	if !strings.Contains(stdout, want) {
		t.Errorf("runs show does not print %q:\n%s", want, stdout)
	}
	// The trace ID is the run's ULID in hex: what a tracing backend is searched by.
	id, err := ulid.ParseStrict(entry.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if traceLine := "trace id  " + hex.EncodeToString(id[:]); !strings.Contains(stdout, traceLine) {
		t.Errorf("runs show does not print %q:\n%s", traceLine, stdout)
	}

	code, stdout, stderr = run(t, nil, "runs", "show", "--db", db, entry.RunID, "--json")
	if code != exitOK {
		t.Fatalf("runs show --json: exit %d: %s", code, stderr)
	}
	var detail struct {
		Completion *klaxontype.CompletionRecord `json:"completion"`
	}
	if err := json.Unmarshal([]byte(stdout), &detail); err != nil || detail.Completion == nil {
		t.Fatalf("runs show --json has no completion (%v):\n%s", err, stdout)
	}
	if c := detail.Completion; c.Status != klaxontype.RunStatusDead || c.FailureClass != klaxontype.ClassPermanent ||
		len(c.Manifest.Missing) != 1 || c.Manifest.Missing[0] != "decide" {
		t.Errorf("completion %+v; want dead permanent, missing decide", c)
	}
}
