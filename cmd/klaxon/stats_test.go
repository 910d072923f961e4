package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// clearOfBoundary waits, when a bucket of step is about to end, until the
// next one has begun, so that two commands run one after the other read the
// same buckets.
func clearOfBoundary(step time.Duration) {
	left := step - time.Duration(time.Now().UnixNano())%step
	if left < 3*time.Second {
		time.Sleep(left + 100*time.Millisecond)
	}
}

func TestStatsBothWays(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	url := serveDatabase(t, db)

	clearOfBoundary(time.Hour)
	table := bothWays(t, db, url, "stats")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 28 || !strings.HasPrefix(lines[0], "stats of every workflow: 24 buckets of 1h from ") ||
		!strings.HasPrefix(lines[1], "TIME (UTC)") || lines[27] != "now: 0 pending, 0 running, 0 retrying, 0 waiting, 0 compensating" {
		t.Fatalf("klaxon stats printed %d lines:\n%s", len(lines), table)
	}
	total := strings.Fields(lines[26])
	// total, enqueued, completed, dead, cancelled, the classes, cost, tokens
	// and retries per run.
	want := []string{"total", fmt.Sprint(fixtureEntries), "0", fmt.Sprint(fixtureEntries), "0",
		fmt.Sprintf("context_overflow=%d", fixtureOverflow), fmt.Sprintf("permanent=%d", fixturePermanent),
		fmt.Sprintf("policy_violation=%d", fixturePolicy), "$0.0000", "0.0", "0.00"}
	if strings.Join(total, " ") != strings.Join(want, " ") {
		t.Fatalf("total row %q; want %q\n%s", lines[26], strings.Join(want, " "), table)
	}
	if empty := strings.Fields(lines[2]); strings.Join(empty[2:], " ") != "0 0 0 0 - - - -" {
		t.Fatalf("the first bucket, a day ago, is not empty: %q", lines[2])
	}

	clearOfBoundary(10 * time.Minute)
	bothWays(t, db, url, "stats", "--window", "2h", "--step", "10m", "--workflow", "triage")
	clearOfBoundary(24 * time.Hour)
	bothWays(t, db, url, "stats", "--window", "7d", "--step", "1d", "--workflow", "nothing")

	// --json is the API's document, the same both ways but for when it
	// was read.
	clearOfBoundary(time.Hour)
	code, direct, stderr := run(t, nil, "stats", "--json", "--db", db)
	if code != exitOK {
		t.Fatalf("stats --json: exit %d: %s", code, stderr)
	}
	_, served, _ := run(t, serverEnv(url), "stats", "--json")
	if withoutTimes(t, direct, "to") != withoutTimes(t, served, "to") {
		t.Errorf("stats --json differs:\n--- on the database\n%s\n--- through the server\n%s", direct, served)
	}
	var stats klaxontype.Stats
	if err := json.Unmarshal([]byte(direct), &stats); err != nil || len(stats.Buckets) != 24 || stats.StepSeconds != 3600 {
		t.Fatalf("stats --json: %v\n%s", err, direct)
	}

	// Bad flags are refused before anything is read, the same both ways.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--window", "yesterday"}, `--window: "yesterday" is not a duration`},
		{[]string{"--window", "91d"}, "--window: 2184h0m0s is longer than 2160h0m0s (90 days)"},
		{[]string{"--window", "0"}, "--window: \"0\" is not a positive duration"},
		{[]string{"--step", "30s"}, "--step: 30s is shorter than 1m0s"},
		{[]string{"--window", "90d", "--step", "1m"}, "--step: 1m0s makes 129600 buckets"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		for _, target := range []map[string]string{nil, serverEnv(url)} {
			args := append([]string{"stats"}, tc.args...)
			if target == nil {
				args = append(args, "--db", db)
			}
			code, stdout, stderr := run(t, target, args...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("klaxon %s: exit %d, %q %q; want a usage error mentioning %q", strings.Join(args, " "), code, stdout, stderr, tc.want)
			}
		}
	}
}

func TestStatsFormatting(t *testing.T) {
	t.Parallel()
	bucket := func(finished, unknown int, cost float64) *klaxontype.StatsBucket {
		b := klaxontype.NewStatsBucket(time.Time{})
		b.RunsFinished, b.RunsUnknownCost, b.CostUSD = finished, unknown, cost
		b.SetRates()
		return b
	}
	for _, tc := range []struct {
		bucket *klaxontype.StatsBucket
		want   string
	}{
		{bucket(0, 0, 0), "-"},
		{bucket(4, 0, 0.05), "$0.0125"},
		{bucket(3, 3, 0), "unknown"},
		{bucket(4, 2, 0.05), "$0.0250 (+2 unknown)"},
		{bucket(1, 0, 0.00002), "$0.000020"},
	} {
		if got := formatCostPerRun(tc.bucket); got != tc.want {
			t.Errorf("cost per run of %d runs, %d unknown, $%g: %q; want %q", tc.bucket.RunsFinished, tc.bucket.RunsUnknownCost, tc.bucket.CostUSD, got, tc.want)
		}
	}
	classes := map[klaxontype.FailureClass]int{klaxontype.ClassTransient: 1, klaxontype.ClassContextOverflow: 2, klaxontype.ClassSemantic: 0}
	if got := formatClassCounts(classes); got != "context_overflow=2 transient=1" {
		t.Errorf("formatClassCounts = %q", got)
	}
	for in, want := range map[time.Duration]string{time.Hour: "1h", 10 * time.Minute: "10m", 90 * time.Minute: "1h30m", 24 * time.Hour: "24h", 90 * time.Second: "1m30s"} {
		if got := shortDuration(in); got != want {
			t.Errorf("shortDuration(%s) = %q; want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"7d": "168h", "1d": "24h", "24h": "24h", "1.5d": "1.5d", "d": "d"} {
		if got := daysToHours(in); got != want {
			t.Errorf("daysToHours(%q) = %q; want %q", in, got, want)
		}
	}
}
