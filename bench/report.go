package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// result is what all repetitions of one scenario measured.
type result struct {
	Scenario   string         `json:"scenario"`
	Engine     string         `json:"engine"`
	Steps      int            `json:"steps_per_workflow"`
	Backend    string         `json:"backend"`
	Durability string         `json:"durability"`
	Reps       []*measurement `json:"reps"`
	// Median holds the median of each figure over the repetitions, taken
	// figure by figure.
	Median *measurement `json:"median,omitempty"`
	// Ratio is Klaxon's workflows/s over this peer's, in the same group.
	Ratio float64 `json:"klaxon_over_peer_throughput,omitempty"`
	// LatencyRatio is Klaxon's p50 latency over this peer's.
	LatencyRatio float64 `json:"klaxon_over_peer_p50,omitempty"`
	Error        string  `json:"error,omitempty"`

	group string
}

// report is the whole invocation's output.
type report struct {
	Command     string            `json:"command"`
	Runs        int               `json:"runs"`
	Reps        int               `json:"reps"`
	Inflight    int               `json:"inflight"`
	Concurrency int               `json:"klaxon_concurrency"`
	River       string            `json:"river_config"`
	Postgres    string            `json:"postgres"`
	Versions    map[string]string `json:"versions"`
	Results     []*result         `json:"results"`
}

// finish computes the medians and the ratios against Klaxon in each group.
func (r *report) finish() {
	klaxon := map[string]*measurement{}
	for _, res := range r.Results {
		res.Median = median(res.Reps)
		if res.Engine == "klaxon" && res.Median != nil {
			klaxon[res.group] = res.Median
		}
	}
	for _, res := range r.Results {
		k := klaxon[res.group]
		if res.Engine == "klaxon" || k == nil || res.Median == nil {
			continue
		}
		res.Ratio = k.WorkflowsPS / res.Median.WorkflowsPS
		res.LatencyRatio = float64(k.P50) / float64(res.Median.P50)
	}
}

func median(reps []*measurement) *measurement {
	if len(reps) == 0 {
		return nil
	}
	pick := func(value func(*measurement) float64) float64 {
		values := make([]float64, len(reps))
		for i, m := range reps {
			values[i] = value(m)
		}
		slices.Sort(values)
		if len(values)%2 == 1 {
			return values[len(values)/2]
		}
		return (values[len(values)/2-1] + values[len(values)/2]) / 2
	}
	return &measurement{
		Workflows:   int(pick(func(m *measurement) float64 { return float64(m.Workflows) })),
		Steps:       int(pick(func(m *measurement) float64 { return float64(m.Steps) })),
		Elapsed:     time.Duration(pick(func(m *measurement) float64 { return float64(m.Elapsed) })),
		WorkflowsPS: pick(func(m *measurement) float64 { return m.WorkflowsPS }),
		StepsPS:     pick(func(m *measurement) float64 { return m.StepsPS }),
		P50:         time.Duration(pick(func(m *measurement) float64 { return float64(m.P50) })),
		P99:         time.Duration(pick(func(m *measurement) float64 { return float64(m.P99) })),
	}
}

func (r *report) writeJSON(w io.Writer) error {
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	return encoder.Encode(r)
}

// writeTable prints one row per scenario: the medians, the spread of
// throughput over the repetitions, and the ratios against Klaxon.
func (r *report) writeTable(w io.Writer) error {
	fmt.Fprintf(w, "%s\n", r.Command)
	fmt.Fprintf(w, "%d workflows a repetition (or fewer at the time limit), %d in flight, median of %d repetitions\n\n",
		r.Runs, r.Inflight, r.Reps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tworkflows\tsteps/s\tworkflows/s\t(min – max)\tp50\tp99\tKlaxon/peer wf/s\tKlaxon/peer p50\t")
	lastGroup := ""
	for _, res := range r.Results {
		if lastGroup != "" && res.group != lastGroup {
			fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t")
		}
		lastGroup = res.group
		if res.Median == nil {
			fmt.Fprintf(tw, "%s\tfailed\t\t\t\t\t\t\t\t\n", res.Scenario)
			continue
		}
		m := res.Median
		low, high := res.Reps[0].WorkflowsPS, res.Reps[0].WorkflowsPS
		for _, rep := range res.Reps {
			low, high = min(low, rep.WorkflowsPS), max(high, rep.WorkflowsPS)
		}
		ratio, latencyRatio := "", ""
		if res.Ratio != 0 {
			ratio = fmt.Sprintf("%.3g×", res.Ratio)
			latencyRatio = fmt.Sprintf("%.3g×", res.LatencyRatio)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t(%s – %s)\t%s\t%s\t%s\t%s\t\n", res.Scenario, m.Workflows,
			thousands(m.StepsPS), thousands(m.WorkflowsPS), thousands(low), thousands(high),
			milliseconds(m.P50), milliseconds(m.P99), ratio, latencyRatio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, res := range r.Results {
		if res.Error != "" {
			fmt.Fprintf(w, "%s failed: %s\n", res.Scenario, res.Error)
		}
	}
	fmt.Fprintln(w, "durability:")
	seen := map[string]bool{}
	for _, res := range r.Results {
		key := res.Engine + " " + res.Backend
		if seen[key] {
			continue
		}
		seen[key] = true
		fmt.Fprintf(w, "  %-6s on %-13s  %s\n", res.Engine, res.Backend, res.Durability)
	}
	fmt.Fprintf(w, "river: %s\n", r.River)
	fmt.Fprintln(w, "versions:")
	names := make([]string, 0, len(r.Versions))
	for name := range r.Versions {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %s %s\n", name, r.Versions[name])
	}
	return nil
}

// thousands formats a rate with a thousands separator and no decimals.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func milliseconds(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

// dependencyVersions lists the versions of the engines and drivers compiled
// into this binary.
func dependencyVersions() map[string]string {
	versions := map[string]string{}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return versions
	}
	versions["go"] = info.GoVersion
	for _, dep := range info.Deps {
		switch dep.Path {
		case "github.com/riverqueue/river", "github.com/riverqueue/river/riverdriver/riverpgxv5",
			"github.com/riverqueue/river/riverdriver/riversqlite", "github.com/dbos-inc/dbos-transact-golang",
			"github.com/jackc/pgx/v5", "modernc.org/sqlite", "zombiezen.com/go/sqlite":
			versions[dep.Path] = dep.Version
		case "github.com/klaxonhq/klaxon":
			versions[dep.Path] = "local checkout (replace ../)"
		}
	}
	return versions
}
