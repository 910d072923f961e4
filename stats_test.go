package klaxon_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

func TestParseStatsQueryDefaultsAndLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		window, step string
		want         klaxon.StatsQuery
	}{
		{"", "", klaxon.StatsQuery{Window: 24 * time.Hour, Step: time.Hour}},
		{"1h", "", klaxon.StatsQuery{Window: time.Hour, Step: 3 * time.Minute}},
		{"168h", "", klaxon.StatsQuery{Window: 168 * time.Hour, Step: 7 * time.Hour}},
		{"2160h", "", klaxon.StatsQuery{Window: 2160 * time.Hour, Step: 90 * time.Hour}},
		{"90m", "1h", klaxon.StatsQuery{Window: 90 * time.Minute, Step: time.Hour}},
		{"1000m", "1m", klaxon.StatsQuery{Window: 1000 * time.Minute, Step: time.Minute}},
	} {
		got, err := klaxon.ParseStatsQuery(tc.window, tc.step, "")
		if err != nil || got != tc.want {
			t.Errorf("ParseStatsQuery(%q, %q) = %+v, %v; want %+v", tc.window, tc.step, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		window, step string
		param, words string
	}{
		{"7d", "", "window", `"7d" is not a duration`},
		{"yesterday", "", "window", "not a duration"},
		{"-1h", "", "window", "not a positive duration"},
		{"0s", "", "window", "not a positive duration"},
		{"2161h", "", "window", "longer than 2160h0m0s (90 days)"},
		{"", "30s", "step", "shorter than 1m0s"},
		{"", "90.5s", "step", "not a whole number of seconds"},
		{"", "0", "step", "not a positive duration"},
		{"1001m", "1m", "step", "1001 buckets"},
		{"2160h", "2h", "step", "at most 1000"},
		{"", "1 hour", "step", "not a duration"},
	} {
		_, err := klaxon.ParseStatsQuery(tc.window, tc.step, "")
		var queryErr *klaxon.StatsQueryError
		if !errors.As(err, &queryErr) || queryErr.Param != tc.param || !strings.Contains(err.Error(), tc.words) ||
			!errors.Is(err, klaxontype.ErrInvalid) {
			t.Errorf("ParseStatsQuery(%q, %q) = %v; want an invalid %s mentioning %q", tc.window, tc.step, err, tc.param, tc.words)
		}
	}
}

func TestStatsBucketsAreAlignedAndHoldNow(t *testing.T) {
	t.Parallel()
	client, err := klaxon.NewClient(openStore(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, query := range []klaxon.StatsQuery{
		{},
		{Window: time.Hour, Step: 7 * time.Minute},
		{Window: 90 * time.Minute, Step: time.Hour, Workflow: "summarize"},
	} {
		before := time.Now().Truncate(time.Second)
		stats, err := client.Stats(context.Background(), query)
		after := time.Now()
		if err != nil {
			t.Fatalf("Stats(%+v): %v", query, err)
		}
		query, _ = query.WithDefaults()
		step := query.Step
		n := int((query.Window + step - 1) / step)
		last := stats.Buckets[len(stats.Buckets)-1].Start
		switch {
		case stats.StepSeconds != int64(step/time.Second) || stats.Workflow != query.Workflow:
			t.Errorf("Stats(%+v): step_seconds %d, workflow %q", query, stats.StepSeconds, stats.Workflow)
		case len(stats.Buckets) != n:
			t.Errorf("Stats(%+v): %d buckets; want %d", query, len(stats.Buckets), n)
		case stats.From.Unix()%stats.StepSeconds != 0 || stats.From.Location() != time.UTC || !stats.Buckets[0].Start.Equal(stats.From):
			t.Errorf("Stats(%+v): from %s is not a multiple of the step in UTC", query, stats.From)
		case stats.To.Before(before) || stats.To.After(after) || stats.To.Before(last) || !stats.To.Before(last.Add(step)):
			t.Errorf("Stats(%+v): to %s; the last bucket %s must hold it, and it must be now", query, stats.To, last)
		}
		for i, bucket := range stats.Buckets {
			if !bucket.Start.Equal(stats.From.Add(time.Duration(i) * step)) {
				t.Errorf("Stats(%+v): bucket %d starts at %s", query, i, bucket.Start)
			}
		}
	}
	if _, err := client.Stats(context.Background(), klaxon.StatsQuery{Step: time.Second}); !errors.Is(err, klaxontype.ErrInvalid) {
		t.Errorf("Stats with a step of 1s: %v; want ErrInvalid", err)
	}
}
